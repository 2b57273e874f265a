"""Who may do what in the dashboard. Every view resolves the workspace from the URL and
the caller's membership on the server; hiding a button is never the only guard."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404

from pressroom.accounts.models import Membership, Role, Workspace

ROLE_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.REVIEWER: 2, Role.ADMIN: 3}


@dataclass(frozen=True)
class Access:
    workspace: Workspace
    role: str

    def can(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]

    @property
    def can_create(self) -> bool:
        return self.can(Role.EDITOR)

    @property
    def can_review(self) -> bool:
        return self.can(Role.REVIEWER)

    @property
    def can_administer(self) -> bool:
        return self.can(Role.ADMIN)


def workspace_access(user, slug: str) -> Access:
    """The caller's access to a workspace; 404 (not 403) for a workspace they are not in,
    so the existence of other tenants is not revealed."""
    membership = Membership.objects.select_related("workspace").filter(user=user, workspace__slug=slug).first()
    if membership is not None:
        return Access(membership.workspace, membership.role)
    if user.is_superuser:  # operators act as admins everywhere
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is not None:
            return Access(workspace, Role.ADMIN)
    raise Http404("No such workspace.")


def workspace_view(role: str = Role.VIEWER):
    """Decorate a view taking (request, slug, ...): sets request.access, enforces the role."""

    def decorate(view):
        @login_required
        @functools.wraps(view)
        def wrapped(request, slug: str, *args, **kwargs):
            request.access = workspace_access(request.user, slug)
            if not request.access.can(role):
                raise PermissionDenied(f"This needs the {role} role in {request.access.workspace}.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def user_workspaces(user) -> list[Workspace]:
    if user.is_superuser:
        return list(Workspace.objects.all())
    return [m.workspace for m in Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name")]
