"""Who is calling, and for which workspace.

API keys (`Authorization: Bearer pr_<prefix>_<secret>`) belong to one workspace and carry
scopes. Dashboard users authenticate with their session; their workspace is the one named
in `X-Pressroom-Workspace` (a slug) or their only membership, and their scopes follow
their role there.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication

from pressroom.accounts.models import ROLE_SCOPES, ApiKey, Membership, Workspace
from pressroom.accounts.services import api_key_authenticate
from pressroom.audit.services import Actor


@dataclass
class Caller:
    workspace: Workspace
    scopes: set[str]
    actor: Actor
    api_key: ApiKey | None = None
    user: object | None = None
    is_authenticated: bool = field(default=True)

    @property
    def throttle_key(self) -> str:
        return f"key:{self.api_key.prefix}" if self.api_key else f"user:{getattr(self.user, 'pk', '-')}"


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = request.headers.get("Authorization", "")
        if not header.startswith(f"{self.keyword} pr_"):
            return None
        key = api_key_authenticate(header[len(self.keyword) + 1 :].strip())
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired API key.")
        request.caller = Caller(workspace=key.workspace, scopes=set(key.scopes), actor=Actor.for_api_key(key), api_key=key)
        return (request.caller, key)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="pressroom"'


class WorkspaceSessionAuthentication(SessionAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        memberships = Membership.objects.filter(user=user).select_related("workspace")
        slug = request.headers.get("X-Pressroom-Workspace") or request._request.session.get("workspace")
        membership = memberships.filter(workspace__slug=slug).first() if slug else (memberships.first() if memberships.count() == 1 else None)
        if membership is None:
            raise exceptions.PermissionDenied("Choose a workspace you belong to (X-Pressroom-Workspace header).")
        request.caller = Caller(workspace=membership.workspace, scopes=set(ROLE_SCOPES[membership.role]),
                                actor=Actor.for_user(user), user=user)
        return (user, None)
