from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "pressroom.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
