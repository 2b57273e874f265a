from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "pressroom.api"
    label = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        from pressroom.api import schema  # noqa: F401  registers the OpenAPI auth extensions
