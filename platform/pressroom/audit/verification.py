"""Recompute a workspace's chain and name the first event that was edited, deleted or
reordered."""
from __future__ import annotations

from dataclasses import dataclass

from django.forms.models import model_to_dict

from pressroom.audit.chain import event_hash
from pressroom.audit.models import AuditChainHead, AuditEvent


@dataclass(frozen=True)
class ChainProblem:
    sequence: int
    event_id: int | None
    kind: str  # edited | deleted | reordered
    detail: str

    def __str__(self) -> str:
        where = f"event #{self.sequence}" + (f" (id {self.event_id})" if self.event_id else "")
        return f"{where} {self.kind}: {self.detail}"


@dataclass(frozen=True)
class ChainReport:
    workspace_id: int
    events: int
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _fields(event: AuditEvent) -> dict:
    fields = model_to_dict(event, exclude=["id", "user", "workspace"])
    fields["workspace_id"] = event.workspace_id
    return fields


def _check_event(event: AuditEvent, expected_sequence: int, previous_hash: str) -> ChainProblem | None:
    if event.sequence != expected_sequence:
        return ChainProblem(expected_sequence, None, "deleted", f"sequence jumps to #{event.sequence}")
    if event_hash(_fields(event)) != event.hash:
        return ChainProblem(event.sequence, event.pk, "edited", "its contents no longer match its hash")
    if event.previous_hash != previous_hash:
        return ChainProblem(event.sequence, event.pk, "reordered", "it does not link to the event before it")
    return None


def audit_chain_verify(*, workspace_id: int) -> ChainReport:
    previous_hash, expected, count = "", 1, 0
    for event in AuditEvent.objects.filter(workspace_id=workspace_id).order_by("sequence").iterator():
        problem = _check_event(event, expected, previous_hash)
        if problem:
            return ChainReport(workspace_id, count, problem)
        previous_hash, expected, count = event.hash, expected + 1, count + 1
    head = AuditChainHead.objects.filter(workspace_id=workspace_id).first()
    if head and head.last_sequence != count:
        problem = ChainProblem(count + 1, None, "deleted", f"the chain head records {head.last_sequence} events")
        return ChainReport(workspace_id, count, problem)
    if head and head.last_hash != previous_hash:
        return ChainReport(workspace_id, count, ChainProblem(count, None, "edited", "the last event differs from the chain head"))
    return ChainReport(workspace_id, count, None)
