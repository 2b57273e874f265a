from pressroom.plugins import PluginConfig


class DesignConfig(PluginConfig):
    name = "pressroom_design"
    label = "design"
    verbose_name = "Design"
    version = "1.0.0"
    author = "Pressroom"
    description = "Product concept images and ad banners in the brand's colours."
    sdk_api_version = "1.0"
    default_settings = {"steps": 20, "guidance_scale": 7.5, "max_generation_side": 512}
    use_cases = ["pressroom_design.usecases.concept.ConceptImage", "pressroom_design.usecases.banner.Banner"]

    def validate(self, settings: dict) -> None:
        side = int(settings["max_generation_side"])
        if side < 64 or side % 8:
            raise ValueError("max_generation_side must be a multiple of 8, at least 64")
