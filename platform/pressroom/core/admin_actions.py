"""What every admin page shares: querysets scoped to the workspaces where the staff user
holds a role (superusers: all), and actions that run through the services with the
staff user's Access in the object's workspace."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages

from pressroom.accounts.access import Access, access_for_user, workspaces_for_user
from pressroom.accounts.models import Scope
from pressroom.core.errors import PressroomError


class WorkspaceScopedAdmin(admin.ModelAdmin):
    """Only rows of workspaces the staff user belongs to; a workspace filter that names
    only those workspaces."""

    workspace_lookup = "workspace"

    def get_queryset(self, request):
        visible = workspaces_for_user(user=request.user, scope=Scope.CONTENT_READ)
        return super().get_queryset(request).filter(**{f"{self.workspace_lookup}__in": visible})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "workspace":
            kwargs["queryset"] = workspaces_for_user(user=request.user, scope=Scope.CONTENT_READ)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def staff_access(request, obj: Any) -> Access:
    """The staff user's Access in the object's workspace; refused when they hold no role there."""
    access = access_for_user(user=request.user, workspace=obj.workspace)
    if access is None:
        from pressroom.core.errors import NotAllowed

        raise NotAllowed(f"You hold no role in {obj.workspace}.")
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
