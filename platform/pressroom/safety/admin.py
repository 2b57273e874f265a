from django.contrib import admin

from pressroom.audit.services import Actor
from pressroom.safety.models import SafetyPolicy, SafetyVerdict
from pressroom.safety.services import POLICY_FIELDS, safety_policy_update


@admin.register(SafetyPolicy)
class SafetyPolicyAdmin(admin.ModelAdmin):
    """Policy changes go through `safety_policy_update`: validated and audited."""

    list_display = ("workspace", "auto_approve", "max_chars", "updated_at")

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in POLICY_FIELDS}
        if changes:
            safety_policy_update(workspace=obj.workspace, actor=Actor.for_user(request.user), **changes)


@admin.register(SafetyVerdict)
class SafetyVerdictAdmin(admin.ModelAdmin):
    list_display = ("check_name", "decision", "artifact", "job", "scored_by", "created_at")
    list_filter = ("check_name", "decision")
    readonly_fields = [field.name for field in SafetyVerdict._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
