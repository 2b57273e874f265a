"""What every admin page shares: querysets scoped to the workspaces where the staff user
holds a role (superusers: all), and actions that run through the services with the
staff user's Access in the object's workspace."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages

from pressroom.accounts.access import Access, access_for_user, workspaces_for_user
from pressroom.accounts.models import Scope, Workspace
from pressroom.core.errors import NotAllowed, PressroomError


class WorkspaceScopedAdmin(admin.ModelAdmin):
    """Only rows of workspaces where the staff user holds `required_scope` (and
    `required_role`, if set) -- the same rule as the dashboard and the API for that data --
    and a workspace filter that names only those workspaces."""

    workspace_lookup = "workspace"
    required_scope: str = Scope.CONTENT_READ
    required_role: str | None = None

    def visible_workspaces(self, request):
        return workspaces_for_user(user=request.user, scope=self.required_scope, role=self.required_role)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(**{f"{self.workspace_lookup}__in": self.visible_workspaces(request)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "workspace":
            kwargs["queryset"] = self.visible_workspaces(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def staff_access(request, obj: Any) -> Access:
    """The staff user's Access in the object's workspace (or in the workspace itself);
    refused when they hold no role there."""
    workspace = obj if isinstance(obj, Workspace) else obj.workspace
    access = access_for_user(user=request.user, workspace=workspace)
    if access is None:
        raise NotAllowed(f"You hold no role in {workspace}.")
    return access


def each_through_service(modeladmin, request, queryset, service: Callable[[Any, Access], Any], done: str) -> None:
    """Admin actions call the same services as every other entry path, one object at a
    time with the staff user's Access there, and report refusals instead of hiding them."""
    succeeded = 0
    for obj in queryset.select_related("workspace"):
        try:
            service(obj, staff_access(request, obj))
            succeeded += 1
        except PressroomError as error:
            modeladmin.message_user(request, f"{obj}: {error.message}", messages.ERROR)
    if succeeded:
        modeladmin.message_user(request, f"{succeeded} {done}.", messages.SUCCESS)
