from django.contrib import admin

from pressroom.accounts.admin import ThroughServicesAdmin
from pressroom.core.admin_actions import WorkspaceScopedAdmin, staff_access
from pressroom.usage.models import Quota, UsageRecord
from pressroom.usage.services import QUOTA_FIELDS, quota_set


def _is_operator(request) -> bool:
    return request.user.is_active and request.user.is_superuser


@admin.register(Quota)
class QuotaAdmin(ThroughServicesAdmin):
    """Operators (superusers) set each workspace's limits per UTC day and month; blank is
    unlimited. Saved through quota_set (audited); enforced when jobs or campaigns are created."""

    list_display = ("workspace", *QUOTA_FIELDS, "updated_at")
    fieldsets = (
        (None, {"fields": ("workspace",)}),
        ("Per UTC day", {"fields": tuple(name for name in QUOTA_FIELDS if name.endswith("_day"))}),
        ("Per UTC month", {"fields": tuple(name for name in QUOTA_FIELDS if name.endswith("_month"))}),
    )
    search_fields = ("workspace__name", "workspace__slug")

    def get_readonly_fields(self, request, obj=None):
        return ("workspace",) if obj is not None else ()

    def has_module_permission(self, request) -> bool:
        return _is_operator(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _is_operator(request)

    def has_add_permission(self, request) -> bool:
        return _is_operator(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return _is_operator(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # blank limits mean unlimited; every change stays audited

    def save_model(self, request, obj, form, change) -> None:
        limits = {name: form.cleaned_data.get(name) for name in QUOTA_FIELDS}
        saved = self.save_through_service(
            request, lambda: quota_set(access=staff_access(request, obj.workspace), **limits))
        obj.pk = saved.pk


@admin.register(UsageRecord)
class UsageRecordAdmin(WorkspaceScopedAdmin):
    """The ledger, read-only: what each job attempt spent."""

    list_display = ("recorded_at", "workspace", "use_case", "outcome", "jobs", "input_tokens", "output_tokens",
                    "images", "steps", "model_seconds")
    list_filter = ("outcome", "use_case")
    date_hierarchy = "recorded_at"
    list_select_related = ("workspace",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
