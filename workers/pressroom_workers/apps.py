from django.apps import AppConfig


class WorkersConfig(AppConfig):
    """Makes the worker's management commands (prepare_models) available. Importing
    this app loads no model library; only running a command does."""

    name = "pressroom_workers"
    label = "pressroom_workers"
    verbose_name = "Workers"
