from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "pressroom.usage"
    label = "usage"
    verbose_name = "Usage and quotas"
