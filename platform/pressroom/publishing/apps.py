from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "pressroom.publishing"
    label = "publishing"
    verbose_name = "Publishing"
