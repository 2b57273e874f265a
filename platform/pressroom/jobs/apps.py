from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "pressroom.jobs"
    label = "jobs"
    verbose_name = "Jobs and artifacts"
