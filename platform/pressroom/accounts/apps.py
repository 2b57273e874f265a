from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "pressroom.accounts"
    label = "accounts"
    verbose_name = "Workspaces and members"
