from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "pressroom.core"
    label = "pressroom_core"
    verbose_name = "Pressroom core"
