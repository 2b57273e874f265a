from django.contrib import admin
from django.utils.html import format_html

from pressroom.core.admin_actions import WorkspaceScopedAdmin, each_through_service
from pressroom.jobs.models import Artifact, Job, WorkerHeartbeat
from pressroom.jobs.services import (
    artifact_approve,
    artifact_publish,
    artifact_reject,
    artifact_schedule_cancel,
    job_cancel,
    job_retry,
)


def artifact_preview(artifact: Artifact, size: int = 96) -> str:
    if artifact.kind == "image" and artifact.file:
        return format_html('<a href="{}" target="_blank"><img src="{}" alt="variant {}" style="max-width:{}px;max-height:{}px"></a>',
                           artifact.file_url, artifact.file_url, artifact.variant_index + 1, size, size)
    text = artifact.text or ""
    return text[:160] + ("…" if len(text) > 160 else "")


class ArtifactInline(admin.TabularInline):
    model = Artifact
    extra = 0
    can_delete = False
    fields = ("variant_index", "kind", "status", "preview", "model_alias", "seed")
    readonly_fields = fields

    @admin.display(description="Preview")
    def preview(self, artifact: Artifact) -> str:
        return artifact_preview(artifact)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(WorkspaceScopedAdmin):
    list_display = ("id", "workspace", "use_case", "status", "progress", "priority", "attempts", "created_at")
    list_filter = ("status", "use_case", ("workspace", admin.RelatedOnlyFieldListFilter))
    search_fields = ("id", "use_case", "idempotency_key")
    readonly_fields = [field.name for field in Job._meta.fields]
    inlines = (ArtifactInline,)
    actions = ("cancel_jobs", "retry_jobs")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # state changes only through the actions (services, audited)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_operate_permission(self, request) -> bool:
        """Cancel and retry: operators with the change-job permission (superusers have it)."""
        return request.user.has_perm("jobs.change_job")

    @admin.action(description="Cancel selected jobs", permissions=["operate"])
    def cancel_jobs(self, request, queryset) -> None:
        each_through_service(self, request, queryset, lambda job, access: job_cancel(job=job, access=access), "cancelled")

    @admin.action(description="Retry selected failed, cancelled or stuck jobs", permissions=["operate"])
    def retry_jobs(self, request, queryset) -> None:
        each_through_service(self, request, queryset, lambda job, access: job_retry(job=job, access=access), "queued again")


@admin.register(Artifact)
class ArtifactAdmin(WorkspaceScopedAdmin):
    list_display = ("id", "preview", "job", "kind", "variant_index", "status", "publish_at", "model_alias", "model_placeholder",
                    "created_at")
    list_filter = ("kind", "status", "safety_decision", "model_alias", ("workspace", admin.RelatedOnlyFieldListFilter))
    readonly_fields = ["large_preview", *[field.name for field in Artifact._meta.fields]]
    actions = ("approve", "reject", "publish", "unschedule")

    @admin.display(description="Preview")
    def preview(self, artifact: Artifact) -> str:
        return artifact_preview(artifact, 64)

    @admin.display(description="Preview")
    def large_preview(self, artifact: Artifact) -> str:
        return artifact_preview(artifact, 512)

    @admin.action(description="Approve selected artifacts", permissions=["review"])
    def approve(self, request, queryset) -> None:
        each_through_service(self, request, queryset,
                             lambda a, access: artifact_approve(artifact=a, access=access, comment="Approved in admin"), "approved")

    @admin.action(description="Reject selected artifacts", permissions=["review"])
    def reject(self, request, queryset) -> None:
        each_through_service(self, request, queryset,
                             lambda a, access: artifact_reject(artifact=a, access=access, comment="Rejected in admin"), "rejected")

    @admin.action(description="Publish selected artifacts", permissions=["review"])
    def publish(self, request, queryset) -> None:
        each_through_service(self, request, queryset, lambda a, access: artifact_publish(artifact=a, access=access), "published")

    @admin.action(description="Cancel the scheduled publication of selected artifacts", permissions=["review"])
    def unschedule(self, request, queryset) -> None:
        each_through_service(self, request, queryset, lambda a, access: artifact_schedule_cancel(artifact=a, access=access),
                             "no longer scheduled")

    def has_review_permission(self, request) -> bool:
        """Approve, reject and publish: only operators granted the change-artifact
        permission (superusers), never every staff user who can open this list. The
        services check the staff user's role in each artifact's workspace again."""
        return request.user.has_perm("jobs.change_artifact")

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # state changes only through the actions above

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "queues", "device", "loaded_models", "last_seen")
    readonly_fields = [field.name for field in WorkerHeartbeat._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
