from pressroom.plugins import PluginConfig


class MarketingConfig(PluginConfig):
    name = "pressroom_marketing"
    label = "marketing"
    verbose_name = "Marketing"
    version = "1.0.0"
    author = "Pressroom"
    description = "Ad copy, social posts, e-mail subject lines and product descriptions."
    sdk_api_version = "1.0"
    default_settings = {"default_variants": 2, "temperature": 0.8, "phrase_temperature": 0.6, "quality_regenerations": 2,
                        # Measured on the default 135M model: the same quality pass share with and
                        # without the worked examples, at twice the ad-copy time (longer prompts,
                        # no shared brief prefix); a workspace on a larger model turns them on.
                        "few_shot": False}
    use_cases = [
        "pressroom_marketing.usecases.ad_copy.AdCopy",
        "pressroom_marketing.usecases.social.SocialPost",
        "pressroom_marketing.usecases.email.EmailSubject",
        "pressroom_marketing.usecases.product.ProductDescription",
    ]

    def validate(self, settings: dict) -> None:
        for name in ("temperature", "phrase_temperature"):
            if not 0 < float(settings[name]) <= 2:
                raise ValueError(f"{name} must be in (0, 2]")
        regenerations = settings["quality_regenerations"]
        if isinstance(regenerations, bool) or not isinstance(regenerations, int) or not 0 <= regenerations <= 5:
            raise ValueError("quality_regenerations must be a whole number from 0 to 5")
        if not isinstance(settings["few_shot"], bool):
            raise ValueError("few_shot must be true or false")
