"""The dashboard's door: every view resolves the workspace from the URL and the caller's
Access (pressroom.accounts.access) on the server; hiding a button is never the only guard."""
from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404

from pressroom.accounts.access import access_for_user_in, workspaces_for_user
from pressroom.accounts.models import Role, Workspace


def workspace_view(role: str = Role.VIEWER):
    """Decorate a view taking (request, slug, ...): sets request.access, enforces the role.
    A workspace the caller is not in is a 404 (not 403), so other tenants stay unseen."""

    def decorate(view):
        @login_required
        @functools.wraps(view)
        def wrapped(request, slug: str, *args, **kwargs):
            access = access_for_user_in(user=request.user, slug=slug)
            if access is None:
                raise Http404("No such workspace.")
            if not access.has_role(role):
                raise PermissionDenied(f"This needs the {role} role in {access.workspace}.")
            request.access = access
            if request.session.get("workspace") != access.workspace.slug:
                request.session["workspace"] = access.workspace.slug  # the API's default for this session
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def user_workspaces(user) -> list[Workspace]:
    return list(workspaces_for_user(user=user).order_by("name"))
