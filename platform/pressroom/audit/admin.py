from django.contrib import admin
from django.http import StreamingHttpResponse

from pressroom.audit.checkpoints import audit_checkpoints_write
from pressroom.audit.export import iter_jsonl
from pressroom.audit.models import AuditEvent
from pressroom.accounts.models import Scope
from pressroom.core.admin_actions import WorkspaceScopedAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(WorkspaceScopedAdmin):
    """Read-only: audit events are never added, changed or deleted by hand. Only where the
    staff user may read the trail (audit:read, as in the API)."""

    required_scope = Scope.AUDIT_READ
    list_display = ("workspace", "sequence", "timestamp", "action", "object_type", "object_id", "actor_label")
    list_filter = ("action", "actor_type", ("workspace", admin.RelatedOnlyFieldListFilter))
    search_fields = ("object_id", "actor_label", "hash")
    readonly_fields = [field.name for field in AuditEvent._meta.fields]
    actions = ("export_jsonl",)

    @admin.action(description="Export selected events as JSON Lines")
    def export_jsonl(self, request, queryset):
        for workspace_id in queryset.values_list("workspace_id", flat=True).distinct():
            audit_checkpoints_write(workspace_id=workspace_id)  # every export is anchored
        response = StreamingHttpResponse(iter_jsonl(queryset.order_by("workspace_id", "sequence")), content_type="application/x-ndjson")
        response["Content-Disposition"] = 'attachment; filename="audit-events.jsonl"'
        return response

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
