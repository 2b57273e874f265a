from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "pressroom.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"
