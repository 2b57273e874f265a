from django.contrib import admin

from pressroom.accounts.models import Scope
from pressroom.core.admin_actions import WorkspaceScopedAdmin, each_through_service
from pressroom.publishing.models import WebhookEndpoint
from pressroom.publishing.services import webhook_endpoint_resume


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(WorkspaceScopedAdmin):
    """Endpoints are created and edited through the API and the dashboard (validated URLs,
    the secret shown once); here operators see their health and resume paused ones."""

    list_display = ("url", "workspace", "active", "paused_at", "consecutive_failures", "created_at")
    list_filter = ("active", ("paused_at", admin.EmptyFieldListFilter))
    readonly_fields = ("workspace", "url", "events", "active", "description", "created_at", "paused_at",
                       "pause_reason", "consecutive_failures")
    exclude = ("secret",)
    required_scope = Scope.WEBHOOKS_MANAGE
    actions = ("resume",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Resume paused endpoints (send what waited)", permissions=["view"])
    def resume(self, request, queryset):
        each_through_service(self, request, queryset.filter(paused_at__isnull=False),
                             lambda endpoint, access: webhook_endpoint_resume(endpoint=endpoint, access=access),
                             "endpoints resumed")
