"""Reads of the audit trail for timelines, scoped to a workspace."""
from __future__ import annotations

from django.db.models import Q, QuerySet

from pressroom.audit.models import AuditEvent


def audit_timeline(*, workspace_id: int, job_id=None, artifact_ids=()) -> QuerySet[AuditEvent]:
    """Events of a job and of the given artifacts, in chain order."""
    match = Q(object_type="artifact", object_id__in=[str(pk) for pk in artifact_ids])
    if job_id is not None:
        match |= Q(object_type="job", object_id=str(job_id))
    return AuditEvent.objects.filter(match, workspace_id=workspace_id).order_by("sequence")
