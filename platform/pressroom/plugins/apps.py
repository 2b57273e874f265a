from django.apps import AppConfig


class PluginsConfig(AppConfig):
    name = "pressroom.plugins"
    label = "pressroom_plugins"
    verbose_name = "Plugins"

    def ready(self) -> None:
        from pressroom.plugins import builtin  # noqa: F401  registers the built-in use cases
