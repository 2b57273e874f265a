"""Recompute a workspace's chain and name the first event that was edited, deleted or
reordered; given signed checkpoints, also truncation, a deleted chain, and rewrites with
recomputed hashes.

What the chain alone shows: an edited event (its hash no longer matches), a deleted one
in the middle (a gap in the sequence), a reordered one (its hash matches at another
position), and a deleted tail while the chain head still records it. What only
checkpoints show: a tail deleted with the head rolled back, a whole chain deleted with its
head, and any rewrite that recomputed every later hash, back to the last checkpoint.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.forms.models import model_to_dict

from pressroom.audit.chain import event_hash
from pressroom.audit.checkpoints import SignedCheckpoint
from pressroom.audit.models import AuditChainHead, AuditEvent

REORDER_SEARCH_LIMIT = 100_000


@dataclass(frozen=True)
class ChainProblem:
    sequence: int
    event_id: int | None
    kind: str  # edited | deleted | reordered | truncated | rewritten | bad checkpoint
    detail: str

    def __str__(self) -> str:
        where = f"event #{self.sequence}" + (f" (id {self.event_id})" if self.event_id else "")
        return f"{where} {self.kind}: {self.detail}"


@dataclass(frozen=True)
class ChainReport:
    workspace_id: int
    events: int
    problem: ChainProblem | None
    checkpoints: int = field(default=0)

    @property
    def ok(self) -> bool:
        return self.problem is None


def _fields(event: AuditEvent) -> dict:
    fields = model_to_dict(event, exclude=["id", "user", "workspace"])
    fields["workspace_id"] = event.workspace_id
    return fields


def _original_sequence(event: AuditEvent, limit: int) -> int | None:
    """The position whose hash this event's contents match, when that is not where it is."""
    fields = _fields(event)
    for candidate in range(1, min(limit, REORDER_SEARCH_LIMIT) + 1):
        if candidate != event.sequence and event_hash({**fields, "sequence": candidate}) == event.hash:
            return candidate
    return None


def _check_event(event: AuditEvent, expected_sequence: int, previous_hash: str, last: int) -> ChainProblem | None:
    if event.sequence != expected_sequence:
        return ChainProblem(expected_sequence, None, "deleted", f"sequence jumps to #{event.sequence}")
    if event_hash(_fields(event)) != event.hash:
        original = _original_sequence(event, last + 1)
        if original is not None:
            return ChainProblem(event.sequence, event.pk, "reordered", f"this is event #{original}, moved to #{event.sequence}")
        return ChainProblem(event.sequence, event.pk, "edited", "its contents no longer match its hash")
    if event.previous_hash != previous_hash:
        return ChainProblem(event.sequence, event.pk, "reordered", "it does not link to the event before it")
    return None


def _check_checkpoints(hashes: dict[int, str], count: int, checkpoints: list[SignedCheckpoint],
                       public_key: Ed25519PublicKey | None) -> ChainProblem | None:
    for checkpoint in sorted(checkpoints, key=lambda c: c.sequence):
        if public_key is not None and not checkpoint.signature_valid(public_key):
            return ChainProblem(checkpoint.sequence, None, "bad checkpoint",
                                f"the checkpoint signed at {checkpoint.signed_at} has an invalid signature")
        if checkpoint.sequence > count:
            kind = "deleted" if count == 0 else "truncated"
            return ChainProblem(checkpoint.sequence, None, kind,
                                f"a checkpoint signed at {checkpoint.signed_at} saw {checkpoint.sequence} events; "
                                f"the chain now has {count}")
        if hashes[checkpoint.sequence] != checkpoint.hash:
            return ChainProblem(checkpoint.sequence, None, "rewritten",
                                f"its hash differs from the checkpoint signed at {checkpoint.signed_at}: "
                                f"the chain up to here was rewritten")
    return None


def audit_chain_verify(*, workspace_id: int, checkpoints: list[SignedCheckpoint] = (),
                       public_key: Ed25519PublicKey | None = None) -> ChainReport:
    events = AuditEvent.objects.filter(workspace_id=workspace_id).order_by("sequence")
    last = events.values_list("sequence", flat=True).last() or 0
    previous_hash, expected, count, hashes = "", 1, 0, {}
    mine = [c for c in checkpoints if c.workspace_id == workspace_id]
    if mine and public_key is None:  # a checkpoint is only as good as its signature
        from pressroom.audit.checkpoints import signing_key

        public_key = signing_key().public_key()
    for event in events.iterator():
        problem = _check_event(event, expected, previous_hash, last)
        if problem:
            return ChainReport(workspace_id, count, problem, len(mine))
        hashes[event.sequence] = event.hash
        previous_hash, expected, count = event.hash, expected + 1, count + 1
    head = AuditChainHead.objects.filter(workspace_id=workspace_id).first()
    problem = None
    if head and head.last_sequence != count:
        problem = ChainProblem(count + 1, None, "deleted", f"the chain head records {head.last_sequence} events")
    elif head and head.last_hash != previous_hash:
        problem = ChainProblem(count, None, "edited", "the last event differs from the chain head")
    else:
        problem = _check_checkpoints(hashes, count, mine, public_key)
    return ChainReport(workspace_id, count, problem, len(mine))
