from django.contrib import admin

from pressroom.accounts.admin import ThroughServicesAdmin
from pressroom.accounts.models import Role
from pressroom.core.admin_actions import WorkspaceScopedAdmin, staff_access
from pressroom.safety.models import SafetyPolicy, SafetyVerdict
from pressroom.safety.services import POLICY_FIELDS, safety_policy_get, safety_policy_update


@admin.register(SafetyPolicy)
class SafetyPolicyAdmin(ThroughServicesAdmin, WorkspaceScopedAdmin):
    """Policies are created and changed through the services: validated, audited, and
    only by an admin of the workspace. (Every workspace has one; adding one for a
    workspace that already has it edits that one.)"""

    list_display = ("workspace", "version", "auto_approve", "max_chars", "updated_at")
    readonly_fields = ("version",)
    required_role = Role.ADMIN
    # Settings added after a form was written may be left out of a post: they keep their value.
    OPTIONAL_FIELDS = ("harm_flag_thresholds", "harm_block_thresholds", "banned_topics", "topic_threshold",
                       "quality_disabled_checks", "quality_fact_types", "quality_max_word_run", "quality_max_sentence_repeats",
                       "quality_min_words_for_punctuation", "quality_extra_hashtags_allowed", "quality_language")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        for name in self.OPTIONAL_FIELDS:
            if name in form.base_fields:
                form.base_fields[name].required = False
        return form

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a workspace always has its policy; change it instead (audited)

    def save_model(self, request, obj, form, change) -> None:
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in POLICY_FIELDS
                   and not (name in self.OPTIONAL_FIELDS and form.cleaned_data[name] in (None, ""))}

        def save() -> None:
            access = staff_access(request, obj)
            access.require_role(Role.ADMIN)  # also when nothing changed
            policy = safety_policy_update(access=access, **changes) if changes else safety_policy_get(workspace=obj.workspace)
            obj.pk = policy.pk

        self.save_through_service(request, save)


@admin.register(SafetyVerdict)
class SafetyVerdictAdmin(WorkspaceScopedAdmin):
    list_display = ("check_name", "decision", "artifact", "job", "scored_by", "created_at")
    list_filter = ("check_name", "decision")
    readonly_fields = [field.name for field in SafetyVerdict._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the evidence of a decision stays
