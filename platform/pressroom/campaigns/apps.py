from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "pressroom.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"

    def ready(self) -> None:
        from pressroom.audit.registry import audit_actions

        for name, label in {
            "campaign.created": "Campaign created",
            "campaign.input_blocked": "Campaign refused: rows blocked by safety",
            "campaign.cancelled": "Campaign cancelled",
            "campaign.finished": "Campaign finished",
        }.items():
            audit_actions.register(name, label)
