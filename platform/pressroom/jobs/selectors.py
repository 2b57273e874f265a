"""Reads for jobs and artifacts, always scoped to a workspace."""
from __future__ import annotations

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from pressroom.accounts.models import Workspace
from pressroom.jobs.models import Artifact, Job


def job_list(*, workspace: Workspace, status: str | None = None) -> QuerySet[Job]:
    jobs = Job.objects.filter(workspace=workspace)
    return jobs.filter(status=status) if status else jobs


def job_get(*, workspace: Workspace, job_id) -> Job:
    return Job.objects.prefetch_related("artifacts").get(workspace=workspace, pk=job_id)


def artifact_list(*, workspace: Workspace, job_id=None) -> QuerySet[Artifact]:
    artifacts = Artifact.objects.filter(workspace=workspace)
    return artifacts.filter(job_id=job_id) if job_id else artifacts


def job_queue_position(job: Job) -> int | None:
    """1 for the next job its queue will serve; None once it has left the queue. Counts
    every workspace: the queue is shared, and so is the wait."""
    if job.status != "queued":
        return None
    served_first = Q(priority__gt=job.priority) | Q(priority=job.priority, created_at__lt=job.created_at)
    return Job.objects.filter(served_first, status="queued", modality=job.modality).count() + 1


def review_queue(*, workspace: Workspace) -> QuerySet[Artifact]:
    """Artifacts waiting for a human: flagged ones first, then passed ones (when the
    workspace does not approve automatically), oldest first."""
    waiting = Artifact.objects.filter(workspace=workspace, status__in=("flagged", "passed"))
    order = Case(When(status="flagged", then=Value(0)), default=Value(1), output_field=IntegerField())
    return waiting.annotate(flag_first=order).order_by("flag_first", "created_at").select_related("job").prefetch_related("verdicts")
