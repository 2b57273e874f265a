"""Write audit events. Call inside the transaction of the state change it records, so
the change and its event commit together or not at all."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from pressroom.audit.chain import event_hash
from pressroom.audit.models import ActorType, AuditChainHead, AuditEvent
from pressroom.audit.registry import audit_actions


@dataclass(frozen=True)
class Actor:
    type: str
    id: str = ""
    label: str = ""
    user: AbstractBaseUser | None = None

    @classmethod
    def for_user(cls, user: AbstractBaseUser | None) -> Actor:
        if user is None or not getattr(user, "is_authenticated", False):
            return SYSTEM
        return cls(ActorType.USER, str(user.pk), user.get_username(), user)

    @classmethod
    def for_api_key(cls, key) -> Actor:
        return cls(ActorType.API_KEY, str(key.pk), f"{key.name} (pr_{key.prefix})")

    @classmethod
    def worker(cls, name: str) -> Actor:
        return cls(ActorType.WORKER, name[:255], name[:255])

    @classmethod
    def schedule(cls, key: str, label: str) -> Actor:
        """A schedule acting on its own (a publish-at time, a recurring campaign): `key`
        names it, e.g. "campaign_schedule:<id>"; whoever set it up is in its own events."""
        return cls(ActorType.SCHEDULE, key[:255], label[:255])


SYSTEM = Actor(ActorType.SYSTEM, "", "system")


def _lock_chain_head(workspace_id: int) -> AuditChainHead:
    # Insert-if-missing cannot race (ON CONFLICT DO NOTHING); the row lock then
    # serialises writers of one workspace while other workspaces proceed in parallel.
    AuditChainHead.objects.bulk_create([AuditChainHead(workspace_id=workspace_id)], ignore_conflicts=True)
    return AuditChainHead.objects.select_for_update().get(workspace_id=workspace_id)


def audit_record(
    *,
    workspace_id: int,
    action: str,
    object_type: str,
    object_id: Any,
    actor: Actor = SYSTEM,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    audit_actions.label(action)  # refuses unregistered actions
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    head = _lock_chain_head(workspace_id)
    fields = {
        "workspace_id": workspace_id,
        "sequence": head.last_sequence + 1,
        "timestamp": timezone.now(),
        "actor_type": actor.type,
        "actor_id": actor.id,
        "actor_label": actor.label,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "data": data or {},
        "previous_hash": head.last_hash,
    }
    fields["hash"] = event_hash(fields)
    event = AuditEvent.objects.create(user=actor.user, **fields)
    head.last_sequence, head.last_hash = event.sequence, event.hash
    head.save(update_fields=["last_sequence", "last_hash"])
    return event
