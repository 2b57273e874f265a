from django.contrib import admin

from pressroom.accounts.models import Membership, Workspace
from pressroom.accounts.services import membership_remove, membership_set
from pressroom.audit.services import Actor


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Membership changes go through the services, so each one is audited."""

    list_display = ("user", "workspace", "role", "created_at")
    list_filter = ("role", "workspace")
    autocomplete_fields = ("user", "workspace")

    def save_model(self, request, obj, form, change) -> None:
        saved = membership_set(workspace=obj.workspace, user=obj.user, role=obj.role, actor=Actor.for_user(request.user))
        obj.pk = saved.pk

    def delete_model(self, request, obj) -> None:
        membership_remove(membership=obj, actor=Actor.for_user(request.user))

    def delete_queryset(self, request, queryset) -> None:
        for membership in queryset:
            self.delete_model(request, membership)
