"""The hash chain: canonical encoding and hashing of an event."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

HASHED_FIELDS = (
    "workspace_id", "sequence", "timestamp", "actor_type", "actor_id", "actor_label",
    "action", "object_type", "object_id", "data", "previous_hash",
)


def _default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8: the same event always encodes the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def event_hash(fields: dict[str, Any]) -> str:
    payload = {name: fields[name] for name in HASHED_FIELDS}
    payload["timestamp"] = _timestamp_text(payload["timestamp"])
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def _timestamp_text(value: Any) -> str:
    # Microsecond ISO format in UTC, the precision PostgreSQL stores.
    return value.isoformat(timespec="microseconds") if isinstance(value, datetime) else str(value)
