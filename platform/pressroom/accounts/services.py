from __future__ import annotations

import hashlib
import hmac
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.text import slugify

from pressroom.accounts.access import Access
from pressroom.accounts.models import ApiKey, Membership, Role, Scope, Workspace, validate_time_zone
from pressroom.audit.services import Actor, audit_record
from pressroom.core.errors import InputInvalid


def _audit_membership(membership: Membership, action: str, actor: Actor, data: dict) -> None:
    audit_record(
        workspace_id=membership.workspace_id, action=action, object_type="membership", object_id=membership.pk,
        actor=actor, data={"user": membership.user.get_username(), **data},
    )


@transaction.atomic
def workspace_create(
    *, name: str, slug: str | None = None, owner: AbstractBaseUser | None = None, actor: Actor | None = None,
    time_zone: str = "UTC",
) -> Workspace:
    slug = slug or slugify(name)
    if not slug:
        raise InputInvalid("A workspace needs a name.", {"name": ["This field may not be blank."]})
    if Workspace.objects.filter(slug=slug).exists():
        raise InputInvalid("Workspace slug already taken.", {"slug": [f"'{slug}' is already in use."]})
    actor = actor or Actor.for_user(owner)
    workspace = Workspace.objects.create(name=name, slug=slug, time_zone=_check_time_zone(time_zone))
    audit_record(workspace_id=workspace.pk, action="workspace.created", object_type="workspace",
                 object_id=workspace.pk, actor=actor, data={"name": name, "slug": slug, "time_zone": time_zone})
    if owner is not None:
        membership_set(access=Access.system(workspace, actor), user=owner, role=Role.ADMIN)
    return workspace


# Sent inside the transaction that moved a workspace to another zone (workspace=, before=,
# after=, actor=), so whatever runs on its clock (recurring campaigns) moves with it.
workspace_time_zone_changed = Signal()


def _check_time_zone(time_zone: str) -> str:
    try:
        validate_time_zone(time_zone)
    except ValidationError as error:
        raise InputInvalid("Unknown time zone.", {"time_zone": error.messages}) from None
    return time_zone


@transaction.atomic
def workspace_update(*, access: Access, name: str | None = None, time_zone: str | None = None) -> Workspace:
    """Rename a workspace or move it to another time zone (its admins; the slug stays:
    links and API clients use it); each change audited with its before and after."""
    access.require_role(Role.ADMIN)
    workspace, actor = access.workspace, access.actor
    if name is not None and not name.strip():
        raise InputInvalid("A workspace needs a name.", {"name": ["This field may not be blank."]})
    if time_zone is not None:
        _check_time_zone(time_zone)
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    for field, action, value in (("name", "workspace.renamed", name), ("time_zone", "workspace.time_zone_changed", time_zone)):
        before = getattr(workspace, field)
        if value is None or value == before:
            continue
        setattr(workspace, field, value)
        workspace.save(update_fields=[field])
        audit_record(workspace_id=workspace.pk, action=action, object_type="workspace", object_id=workspace.pk,
                     actor=actor, data={"before": before, "after": value})
        if field == "time_zone":
            workspace_time_zone_changed.send(sender=Workspace, workspace=workspace, before=before, after=value, actor=actor)
    return workspace


@transaction.atomic
def membership_set(*, access: Access, user: AbstractBaseUser, role: str) -> Membership:
    """Add a member or change their role (workspace admins); audited with the role before and after."""
    access.require_role(Role.ADMIN)
    workspace, actor = access.workspace, access.actor
    if role not in Role.values:
        raise InputInvalid("Unknown role.", {"role": [f"'{role}' is not one of {', '.join(Role.values)}."]})
    membership = Membership.objects.select_for_update().filter(user=user, workspace=workspace).first()
    if membership is None:
        membership = Membership.objects.create(user=user, workspace=workspace, role=role)
        _audit_membership(membership, "membership.added", actor, {"role": role})
    elif membership.role != role:
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        _audit_membership(membership, "membership.role_changed", actor, {"before": before, "after": role})
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, access: Access) -> None:
    access.require_object(membership)
    access.require_role(Role.ADMIN)
    _audit_membership(membership, "membership.removed", access.actor, {"role": membership.role})
    membership.delete()


# -- API keys --------------------------------------------------------------------
KEY_PREFIX = "pr"


def _hash_secret(secret: str) -> str:
    # Secrets are 256-bit random values: a plain SHA-256 is enough (no dictionary to guard against).
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, access: Access, name: str, scopes: list[str], expires_at=None) -> tuple[ApiKey, str]:
    """Create a key (workspace admins); returns it with the full token, shown once and never stored."""
    access.require_role(Role.ADMIN)
    workspace, actor = access.workspace, access.actor
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown or not scopes:
        raise InputInvalid("Invalid scopes.", {"scopes": [f"Choose from {', '.join(Scope.values)}" + (f"; unknown: {', '.join(unknown)}" if unknown else "")]})
    if not name.strip():
        raise InputInvalid("A key needs a name.", {"name": ["This field may not be blank."]})
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    key = ApiKey.objects.create(workspace=workspace, name=name, prefix=prefix, secret_hash=_hash_secret(secret),
                                scopes=sorted(set(scopes)), expires_at=expires_at, created_by=actor.user)
    audit_record(workspace_id=workspace.pk, action="api_key.created", object_type="api_key", object_id=key.pk, actor=actor,
                 data={"name": name, "prefix": prefix, "scopes": key.scopes, "expires_at": expires_at.isoformat() if expires_at else None})
    return key, f"{KEY_PREFIX}_{prefix}_{secret}"


@transaction.atomic
def api_key_revoke(*, key: ApiKey, access: Access) -> ApiKey:
    access.require_object(key)
    access.require_role(Role.ADMIN)
    actor = access.actor
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(workspace_id=key.workspace_id, action="api_key.revoked", object_type="api_key", object_id=key.pk,
                     actor=actor, data={"prefix": key.prefix})
    return key


def api_key_authenticate(token: str) -> ApiKey | None:
    """The active key for a token, or None (unknown, wrong secret, revoked or expired)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    # The workspace's safety policy comes in the same select: every job submission screens
    # its input under it, and this saves that request a round trip (safety_policy_get).
    key = ApiKey.objects.select_related("workspace", "workspace__safety_policy").filter(prefix=parts[1]).first()
    if key is None or not hmac.compare_digest(key.secret_hash, _hash_secret(parts[2])):
        return None
    now = timezone.now()
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        return None
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)  # at most once a minute
    return key
