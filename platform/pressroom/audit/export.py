"""Export audit events as JSON Lines or CSV, filtered by time, object and actor."""
from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import IO

from django.db.models import QuerySet

from pressroom.audit.chain import canonical_json
from pressroom.audit.models import AuditEvent
from pressroom.audit.registry import audit_actions

COLUMNS = [
    "workspace", "sequence", "timestamp", "actor_type", "actor_id", "actor_label", "action", "action_label",
    "object_type", "object_id", "data", "previous_hash", "hash",
]


def audit_event_list(
    *,
    workspace_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    actor_type: str | None = None,
    actor_id: str | None = None,
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(workspace_id=workspace_id).select_related("workspace").order_by("sequence")
    filters = {
        "timestamp__gte": since, "timestamp__lt": until, "object_type": object_type, "object_id": object_id,
        "actor_type": actor_type, "actor_id": actor_id,
    }
    return events.filter(**{key: value for key, value in filters.items() if value is not None})


def _row(event: AuditEvent) -> dict:
    return {
        "workspace": event.workspace.slug,
        "sequence": event.sequence,
        "timestamp": event.timestamp.isoformat(),
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "action_label": audit_actions.label(event.action) if event.action in audit_actions else event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "data": event.data,
        "previous_hash": event.previous_hash,
        "hash": event.hash,
    }


def iter_jsonl(events: QuerySet[AuditEvent]) -> Iterator[str]:
    for event in events.iterator():
        yield json.dumps(_row(event), ensure_ascii=False) + "\n"


def write_csv(events: QuerySet[AuditEvent], stream: IO[str]) -> None:
    writer = csv.DictWriter(stream, fieldnames=COLUMNS)
    writer.writeheader()
    for event in events.iterator():
        row = _row(event)
        row["data"] = canonical_json(row["data"])
        writer.writerow(row)
