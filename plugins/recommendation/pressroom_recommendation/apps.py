from pressroom.plugins import PluginConfig, hooks


class RecommendationConfig(PluginConfig):
    name = "pressroom_recommendation"
    label = "recommendation"
    verbose_name = "Recommendation"
    version = "1.0.0"
    author = "Pressroom"
    description = "Personalised product recommendations with a message per customer."
    sdk_api_version = "1.0"
    default_settings = {"similarity_weight": 0.8, "popularity_weight": 0.2, "recency_half_life_days": 30.0}
    use_cases = ["pressroom_recommendation.usecase.PersonalisedRecommendations"]

    def validate(self, settings: dict) -> None:
        if float(settings["recency_half_life_days"]) <= 0:
            raise ValueError("recency_half_life_days must be positive")
        if min(float(settings["similarity_weight"]), float(settings["popularity_weight"])) < 0:
            raise ValueError("weights must not be negative")

    def ready(self) -> None:
        super().ready()
        from pressroom_recommendation.coverage import RecommendationCoverageCheck
        from pressroom_recommendation.grounding import CatalogGroundingCheck

        checks = [CatalogGroundingCheck(), RecommendationCoverageCheck()]
        hooks.register("safety_checks", lambda: checks, order=50)
