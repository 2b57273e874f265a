from pressroom.plugins import PluginConfig


class MarketingConfig(PluginConfig):
    name = "pressroom_marketing"
    label = "marketing"
    verbose_name = "Marketing"
    version = "1.0.0"
    author = "Pressroom"
    description = "Ad copy, social posts, e-mail subject lines and product descriptions."
    sdk_api_version = "1.0"
    default_settings = {"default_variants": 2, "temperature": 0.8}
    use_cases = [
        "pressroom_marketing.usecases.ad_copy.AdCopy",
        "pressroom_marketing.usecases.social.SocialPost",
        "pressroom_marketing.usecases.email.EmailSubject",
        "pressroom_marketing.usecases.product.ProductDescription",
    ]

    def validate(self, settings: dict) -> None:
        if not 0 < float(settings["temperature"]) <= 2:
            raise ValueError("temperature must be in (0, 2]")
