from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "pressroom.safety"
    label = "safety"
    verbose_name = "Safety and review"
