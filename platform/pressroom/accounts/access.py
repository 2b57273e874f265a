"""The one door for access.

Every entry path (dashboard views, REST API, Django admin, the media view, management
commands, the worker) turns its caller into an `Access`: the workspace, the role, the
scopes and the audit actor. Services take it and check it again; selectors scope every
read by it. The rules below are the only place that says who may do what.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from pressroom.accounts.models import ApiKey, Membership, Role, Scope, Workspace
from pressroom.audit.services import SYSTEM, Actor
from pressroom.core.errors import NotAllowed, NotFound

ALL_SCOPES = frozenset(Scope.values)
ROLE_SCOPES: dict[str, frozenset[str]] = {
    Role.VIEWER: frozenset({Scope.CONTENT_READ}),
    Role.EDITOR: frozenset({Scope.CONTENT_READ, Scope.JOBS_WRITE}),
    Role.REVIEWER: frozenset({Scope.CONTENT_READ, Scope.JOBS_WRITE, Scope.CONTENT_REVIEW, Scope.CONTENT_PUBLISH}),
    Role.ADMIN: ALL_SCOPES,
}
ROLE_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.REVIEWER: 2, Role.ADMIN: 3}


@dataclass(frozen=True)
class Access:
    """What one caller may do in one workspace."""

    workspace: Workspace
    scopes: frozenset[str]
    actor: Actor
    role: str | None = None  # None for API keys: they have scopes, not a role
    user: Any = None
    api_key: ApiKey | None = None
    is_authenticated: bool = field(default=True)  # lets DRF treat an Access as request.user

    # -- questions ---------------------------------------------------------------
    def can(self, scope: str) -> bool:
        return scope in self.scopes

    def has_role(self, role: str) -> bool:
        return self.role is not None and ROLE_RANK[self.role] >= ROLE_RANK[role]

    @property
    def can_create(self) -> bool:
        return self.can(Scope.JOBS_WRITE)

    @property
    def can_review(self) -> bool:
        return self.can(Scope.CONTENT_REVIEW)

    @property
    def can_administer(self) -> bool:
        return self.has_role(Role.ADMIN)

    @property
    def throttle_key(self) -> str:
        return f"key:{self.api_key.prefix}" if self.api_key else f"user:{getattr(self.user, 'pk', '-')}"

    # -- checks services make again ------------------------------------------------
    def require(self, scope: str) -> None:
        if not self.can(scope):
            raise NotAllowed(f"This needs the {scope} permission in {self.workspace}.")

    def require_role(self, role: str) -> None:
        if not self.has_role(role):
            raise NotAllowed(f"This needs the {role} role in {self.workspace}.")

    def require_object(self, obj: Any) -> None:
        """An object of another workspace answers exactly like a missing one."""
        if getattr(obj, "workspace_id", None) != self.workspace.pk:
            raise NotFound("No such object.")

    # -- callers that are not people -------------------------------------------------
    @classmethod
    def system(cls, workspace: Workspace, actor: Actor = SYSTEM) -> Access:
        """The platform itself (workers, schedules, management commands): every scope."""
        return cls(workspace=workspace, scopes=ALL_SCOPES, actor=actor, role=Role.ADMIN)


# -- selectors: from a caller to an Access -------------------------------------------
def _user_role(user: Any, workspace: Workspace) -> str | None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:  # operators act as admins in every workspace: the one place this is said
        return Role.ADMIN
    return Membership.objects.filter(user=user, workspace=workspace).values_list("role", flat=True).first()


def access_for_user(*, user: Any, workspace: Workspace) -> Access | None:
    """A signed-in user's access to a workspace, or None when they are not in it."""
    role = _user_role(user, workspace)
    if role is None:
        return None
    return Access(workspace=workspace, scopes=ROLE_SCOPES[role], actor=Actor.for_user(user), role=role, user=user)


def access_for_user_in(*, user: Any, slug: str) -> Access | None:
    workspace = Workspace.objects.filter(slug=slug).first()
    return access_for_user(user=user, workspace=workspace) if workspace is not None else None


def access_for_api_key(*, key: ApiKey) -> Access:
    return Access(workspace=key.workspace, scopes=frozenset(key.scopes) & ALL_SCOPES, actor=Actor.for_api_key(key),
                  api_key=key)


def access_for_token(token: str) -> Access | None:
    """The access of a bearer token (`pr_<prefix>_<secret>`), or None if it is not a live key."""
    from pressroom.accounts.services import api_key_authenticate

    key = api_key_authenticate(token)
    return access_for_api_key(key=key) if key is not None else None


def access_for_request(request, *, workspace: Workspace) -> Access | None:
    """A request's access to `workspace`: its API key (Authorization: Bearer) or its
    signed-in user. A key of another workspace gets None, like a stranger."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        access = access_for_token(token.strip())
        return access if access is not None and access.workspace.pk == workspace.pk else None
    return access_for_user(user=getattr(request, "user", None), workspace=workspace)


def roles_with(scope: str) -> list[str]:
    return [role for role, scopes in ROLE_SCOPES.items() if scope in scopes]


def roles_at_least(role: str) -> list[str]:
    return [other for other, rank in ROLE_RANK.items() if rank >= ROLE_RANK[role]]


def workspaces_for_user(*, user: Any, scope: str = Scope.CONTENT_READ, role: str | None = None) -> QuerySet[Workspace]:
    """The workspaces where a user holds `scope` (and at least `role`, if given); all of them
    for superusers."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Workspace.objects.none()
    if user.is_superuser:
        return Workspace.objects.all()
    roles = set(roles_with(scope)) & set(roles_at_least(role) if role else ROLE_RANK)
    return Workspace.objects.filter(memberships__user=user, memberships__role__in=roles).distinct()
