"""Reads for jobs and artifacts, always scoped to a workspace."""
from __future__ import annotations

from django.db.models import QuerySet

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
