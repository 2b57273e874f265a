from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "pressroom.audit"
    label = "audit"
    verbose_name = "Audit trail"
