"""Who is calling, and for which workspace: both classes set `request.access`
(pressroom.accounts.access), the one object every permission and service asks.

API keys (`Authorization: Bearer pr_<prefix>_<secret>`) belong to one workspace and carry
scopes. Dashboard users authenticate with their session; their workspace is the one named
in `X-Pressroom-Workspace` (a slug), the one chosen in the dashboard, or their only one;
their scopes follow their role there.
"""
from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication

from pressroom.accounts.access import access_for_token, access_for_user_in, workspaces_for_user


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = request.headers.get("Authorization", "")
        if not header.startswith(f"{self.keyword} pr_"):
            return None
        access = access_for_token(header[len(self.keyword) + 1 :].strip())
        if access is None:
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired API key.")
        request.access = access
        return (access, access.api_key)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="pressroom"'


def _session_workspace_slug(request, user) -> str | None:
    slug = request.headers.get("X-Pressroom-Workspace") or request._request.session.get("workspace")
    if slug:
        return slug
    only = list(workspaces_for_user(user=user).values_list("slug", flat=True)[:2])
    return only[0] if len(only) == 1 else None


class WorkspaceSessionAuthentication(SessionAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        slug = _session_workspace_slug(request, user)
        access = access_for_user_in(user=user, slug=slug) if slug else None
        request.access = access
        return (user, None)
