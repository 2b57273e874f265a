r"""Writes for jobs. Every state change lives here, never in views or tasks.

    queued --start--> running --succeed--> succeeded
      |                  |  \--fail-----> failed
      |                  |  \--retry----> queued (transient error, backoff)
      |                  |  \--lease lapsed (worker lost)--> queued (the sweeper)
      \--cancel--> cancelled <--cancel at the next step boundary, or at once if its worker is gone--/
    failed / cancelled / stuck running --retry (operator)--> queued

Every transition that needs a message writes its outbox row in the same transaction
(`jobs.dispatch`). A running job holds a lease its worker renews; `jobs_sweep` (celery beat,
every SWEEP_SECONDS) requeues jobs whose lease lapsed and publishes unsent messages.
"""
from __future__ import annotations

import hashlib
import json
import random
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from pressroom.accounts.access import Access
from pressroom.accounts.models import Scope, Workspace
from pressroom.audit.services import SYSTEM, Actor, audit_record
from pressroom.campaigns.events import campaign_job_finished, campaign_job_reopened
from pressroom.conf import pressroom_settings
from pressroom.core.errors import IdempotencyConflict, InputInvalid, InvalidTransition
from pressroom.core.queries import counts_in_one_statement
from pressroom.jobs.dispatch import dispatches_relay, fair_priority_for, job_dispatch, workspace_backlog_before
from pressroom.jobs.models import Artifact, Job, JobDispatch, JobStatus
from pressroom.jobs.selectors import job_queue_position_remember, jobs_served_before
from pressroom.jobs.validation import job_input_validate, use_case_get
from pressroom.plugins.selectors import use_case_check_offered
from pressroom.plugins import ArtifactDraft
from pressroom.publishing.services import webhook_event_emit
from pressroom.usage.metering import Usage
from pressroom.usage.models import Outcome
from pressroom.usage.services import quota_reserve, usage_record

JobRef = Job | UUID | str


def _fingerprint(use_case_key: str, raw_input: Any, priority: int) -> str:
    canonical = json.dumps([use_case_key, raw_input, priority], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def job_priority_check(priority: Any) -> int:
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 9:
        raise InputInvalid("Invalid priority.", {"priority": ["Must be an integer from 0 to 9."]})
    return priority


def _lease_until():
    return timezone.now() + timedelta(seconds=pressroom_settings.LEASE_SECONDS)


def _lease_lapsed(job: Job) -> bool:
    return job.status == JobStatus.RUNNING and (job.lease_expires_at is None or job.lease_expires_at <= timezone.now())


def _existing_for_key(workspace: Workspace, key: str, fingerprint: str) -> Job | None:
    job = Job.objects.filter(workspace=workspace, idempotency_key=key).first()
    if job is not None and job.request_fingerprint != fingerprint:
        raise IdempotencyConflict(f"Idempotency key {key!r} was already used with a different request.")
    return job


def job_create(
    *,
    access: Access,
    use_case_key: str,
    input: Any,
    priority: int = 5,
    idempotency_key: str | None = None,
) -> Job:
    """Validate, store and enqueue a job. Invalid input raises and writes nothing.

    The same idempotency key with the same request returns the first job; with a
    different request it raises IdempotencyConflict. Every text field of the input is
    screened before any model time is spent: a blocked input raises InputBlocked
    naming the rule and the reason.
    """
    from pressroom.safety.services import job_input_screen

    access.require(Scope.JOBS_WRITE)
    workspace, actor, created_by = access.workspace, access.actor, access.user
    priority = job_priority_check(priority)
    use_case = use_case_check_offered(workspace=access.workspace, use_case=use_case_get(use_case_key))
    validated = job_input_validate(use_case=use_case, raw_input=input)
    fingerprint = _fingerprint(use_case.key, input, priority)
    if idempotency_key is not None:
        existing = _existing_for_key(workspace, idempotency_key, fingerprint)
        if existing is not None:
            return existing
    # Raises InputBlocked (and audits the refusal) before anything is stored.
    input_screening = job_input_screen(workspace=workspace, use_case=use_case, validated_input=validated, actor=actor)
    try:
        with transaction.atomic():
            quota_reserve(workspace=workspace, jobs=1)  # raises QuotaExceeded; holds the quota row till commit
            job = Job.objects.create(
                workspace=workspace,
                use_case=use_case.key,
                modality=use_case.modality,
                input=validated,
                priority=priority,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint,
                base_seed=random.SystemRandom().randrange(2**31),
                dispatched_at=timezone.now(),
                created_by=created_by,
            )
            input_screening.save_for(job)
            # The job's fair priority and its queue position (for the answer) in one count.
            backlog, served_before = counts_in_one_statement(workspace_backlog_before(job), jobs_served_before(job))
            job_dispatch(job=job, priority=fair_priority_for(job, backlog))
            job_queue_position_remember(job, served_before)
            # Last: the audit chain head's row lock serialises a workspace's writers until
            # commit, so it is taken when nothing but the commit is left to do.
            _audit(job, "job.created", actor, {
                "use_case": job.use_case, "priority": priority, "input": validated,
                "input_screening": input_screening.decision,
            })
    except IntegrityError:
        # A concurrent request with the same key won the race.
        if idempotency_key is None:
            raise
        existing = _existing_for_key(workspace, idempotency_key, fingerprint)
        if existing is None:
            raise
        return existing
    return job


def _audit(job: Job, action: str, actor: Actor, data: dict[str, Any] | None = None) -> None:
    audit_record(workspace_id=job.workspace_id, action=action, object_type="job", object_id=job.pk, actor=actor, data=data)


def _lock(job: JobRef) -> Job:
    job_id = job.pk if isinstance(job, Job) else job
    return Job.objects.select_for_update().get(pk=job_id)


def _require(job: Job, allowed: tuple[str, ...], action: str) -> None:
    if job.status not in allowed:
        raise InvalidTransition(
            f"Cannot {action} job {job.pk}: it is {job.status} (allowed from {', '.join(allowed)})."
        )


def _save(job: Job, **changes: Any) -> Job:
    for field, value in changes.items():
        setattr(job, field, value)
    job.save(update_fields=list(changes))
    return job


def _save_and_dispatch(job: Job, countdown: float | None = None, **changes: Any) -> Job:
    """Save the changes with the dispatch time in one write, and the job's outbox row in
    the same transaction (published after commit)."""
    _save(job, dispatched_at=timezone.now(), **changes)
    job_dispatch(job=job, countdown=countdown)
    return job


@transaction.atomic
def job_start(*, job: JobRef, worker: str = "") -> Job | None:
    """Mark a job running for a worker's attempt, with a lease; None when there is nothing
    to run. A job already `running` starts again (the attempt counted) only when its lease
    lapsed or it is the same worker's (its pool process died); else another live worker
    holds it and this is a duplicate message. Finished jobs are not run twice.
    """
    job = _lock(job)
    if job.is_finished:
        return None
    if job.status == JobStatus.RUNNING and not _lease_lapsed(job) and job.worker != worker[:255]:
        return None  # another live worker holds it: a duplicate message
    if job.attempts >= pressroom_settings.JOB_MAX_ATTEMPTS:
        _failed(job, f"Gave up after {job.attempts} attempts (worker lost or timed out).", Actor.worker(worker))
        return None
    redelivered = job.status == JobStatus.RUNNING
    _save(
        job,
        status=JobStatus.RUNNING,
        attempts=job.attempts + 1,
        started_at=job.started_at or timezone.now(),
        worker=worker[:255],
        progress=max(job.progress, 1),
        lease_expires_at=_lease_until(),
    )
    _audit(job, "job.started", Actor.worker(worker), {"attempt": job.attempts, "redelivered": redelivered})
    return job


def _finish(job: Job, status: str, **changes: Any) -> Job:
    _save(job, status=status, finished_at=timezone.now(), lease_expires_at=None, **changes)
    campaign_job_finished(job)
    return job


def _held_by(worker: str, job_ids: list):
    return Job.objects.filter(pk__in=job_ids, status=JobStatus.RUNNING, worker=worker[:255])


def jobs_lease_renew(*, job_ids: list, worker: str) -> int:
    """The worker still runs these jobs: extend their leases."""
    return _held_by(worker, job_ids).update(lease_expires_at=_lease_until())


def jobs_lease_release(*, job_ids: list, worker: str) -> int:
    """The worker lost these jobs (its pool process died): let any worker take them now."""
    return _held_by(worker, job_ids).update(lease_expires_at=timezone.now())


@transaction.atomic
def job_set_progress(*, job: JobRef, progress: int) -> None:
    """Record progress of a running job; progress never goes backwards."""
    Job.objects.filter(pk=job.pk if isinstance(job, Job) else job, status=JobStatus.RUNNING, progress__lt=progress).update(
        progress=min(100, max(0, progress))
    )


def _artifact_from_draft(job: Job, draft: ArtifactDraft) -> Artifact:
    provenance = draft.provenance
    artifact = Artifact(
        job=job,
        workspace_id=job.workspace_id,
        kind=draft.kind,
        variant_index=draft.variant_index,
        text=draft.text,
        data=draft.data,
        model_alias=provenance.alias,
        model_source=provenance.source,
        model_revision=provenance.revision,
        model_placeholder=provenance.placeholder,
        generation_params={
            **draft.params,
            "device": provenance.device,
            "dtype": provenance.dtype,
            "batch_id": provenance.batch_id,
            "batch_size": provenance.batch_size,
            "call_seconds": provenance.call_seconds,
            **{key: value for key in ("engine", "endpoint", "model_id", "model_seconds")
               if (value := getattr(provenance, key)) is not None and value != ""},
        },
        seed=draft.seed,
    )
    if draft.png is not None:
        # Deterministic name, and the file of an earlier attempt (a worker lost before it
        # committed) is replaced: redeliveries never pile up orphans.
        name = artifact.file.field.generate_filename(artifact, f"variant-{draft.variant_index}.png")
        artifact.file.storage.delete(name)
        artifact.file.save(f"variant-{draft.variant_index}.png", ContentFile(draft.png), save=False)
    return artifact


@transaction.atomic
def job_succeed(*, job: JobRef, drafts: list[ArtifactDraft], actor: Actor = SYSTEM, usage: Usage | None = None) -> Job:
    """Store the artifacts, mark the job succeeded and add its usage to the ledger, in one
    transaction.

    Idempotent for redeliveries: a job that already succeeded keeps its artifacts (and its
    ledger entry is not written twice).
    """
    job = _lock(job)
    if job.status == JobStatus.SUCCEEDED:
        return job
    _require(job, (JobStatus.RUNNING,), "succeed")
    indexes = [draft.variant_index for draft in drafts]
    if len(set(indexes)) != len(indexes):
        raise ValueError(f"Use case {job.use_case} returned duplicate variant indexes {indexes}")
    artifacts = Artifact.objects.bulk_create([_artifact_from_draft(job, draft) for draft in drafts])
    _finish(job, JobStatus.SUCCEEDED, progress=100, error_message="")
    _audit(job, "job.succeeded", actor, {"artifacts": len(artifacts), "attempts": job.attempts})
    webhook_event_emit(workspace_id=job.workspace_id, event="job.succeeded",
                       data={"job": str(job.pk), "use_case": job.use_case, "artifacts": [str(a.pk) for a in artifacts]})
    for artifact in artifacts:
        audit_record(
            workspace_id=job.workspace_id, action="artifact.created", object_type="artifact",
            object_id=artifact.pk, actor=actor, data={"job": str(job.pk), **artifact_provenance(artifact)},
        )
    # Ledger writes come after the audit events: the workspace's audit head is locked by
    # then, so the day's usage sums are always locked in the same order (no deadlock).
    usage_record(job=job, usage=usage, outcome=Outcome.SUCCEEDED)
    return job


def artifact_provenance(artifact: Artifact) -> dict[str, Any]:
    return {
        "kind": artifact.kind,
        "variant_index": artifact.variant_index,
        "revision": artifact.revision,
        "model_alias": artifact.model_alias,
        "model_source": artifact.model_source,
        "model_revision": artifact.model_revision,
        "model_placeholder": artifact.model_placeholder,
        "seed": artifact.seed,
        "generation_params": artifact.generation_params,
    }


@transaction.atomic
def job_fail(*, job: JobRef, error: str, actor: Actor = SYSTEM, usage: Usage | None = None) -> Job:
    """Fail a job; the model time it spent before failing (`usage`) still goes to the ledger."""
    job = _lock(job)
    _require(job, (JobStatus.QUEUED, JobStatus.RUNNING), "fail")
    return _failed(job, error, actor, usage)


def _failed(job: Job, error: str, actor: Actor, usage: Usage | None = None) -> Job:
    """Every way a job fails: one audit event, one job.failed webhook, one ledger entry."""
    _finish(job, JobStatus.FAILED, error_message=error[:10_000])
    _audit(job, "job.failed", actor, {"error": job.error_message})
    webhook_event_emit(workspace_id=job.workspace_id, event="job.failed",
                       data={"job": str(job.pk), "use_case": job.use_case, "error": job.error_message})
    usage_record(job=job, usage=usage, outcome=Outcome.FAILED)
    return job


@transaction.atomic
def job_retry_later(*, job: JobRef, error: str, actor: Actor = SYSTEM, usage: Usage | None = None) -> Job:
    """Put a running job back in the queue after a transient error, with exponential
    backoff; fail it once it has used all its attempts. What the attempt spent is recorded."""
    job = _lock(job)
    _require(job, (JobStatus.RUNNING,), "retry")
    if job.attempts >= pressroom_settings.JOB_MAX_ATTEMPTS:
        return _failed(job, f"Failed after {job.attempts} attempts: {error}", actor, usage)
    countdown = min(
        pressroom_settings.RETRY_BACKOFF_MAX_SECONDS,
        pressroom_settings.RETRY_BACKOFF_SECONDS * 2 ** (job.attempts - 1),
    )
    _save_and_dispatch(job, countdown=countdown, status=JobStatus.QUEUED, lease_expires_at=None,
                       error_message=f"Retrying in {countdown}s: {error}"[:10_000])
    _audit(job, "job.retry_scheduled", actor, {"error": error, "countdown": countdown, "attempt": job.attempts})
    usage_record(job=job, usage=usage, outcome=Outcome.RETRIED, ends_job=False)
    return job


def _lock_for(job: Job, access: Access, scope: str) -> Job:
    access.require_object(job)
    access.require(scope)
    return _lock(job)


@transaction.atomic
def job_cancel(*, job: Job, access: Access) -> Job:
    """Cancel a job. A queued job is cancelled at once and never starts; a running one
    is asked to stop and becomes cancelled at its next step boundary."""
    job, actor = _lock_for(job, access, Scope.JOBS_WRITE), access.actor
    _require(job, (JobStatus.QUEUED, JobStatus.RUNNING), "cancel")
    if job.status == JobStatus.QUEUED or _lease_lapsed(job):
        was = "queued" if job.status == JobStatus.QUEUED else "running on a lost worker"
        _finish(job, JobStatus.CANCELLED, cancel_requested_at=timezone.now())
        JobDispatch.objects.filter(job=job).delete()  # nothing left to send
        _audit(job, "job.cancelled", actor, {"was": was})
    elif job.cancel_requested_at is None:
        _save(job, cancel_requested_at=timezone.now())
        _audit(job, "job.cancel_requested", actor)
    return job


@transaction.atomic
def job_retry(*, job: Job, access: Access) -> Job:
    """An operator's retry of a failed or cancelled job: queued again with fresh attempts.
    Its earlier error stays in the audit trail."""
    job, actor = _lock_for(job, access, Scope.JOBS_WRITE), access.actor
    if not _lease_lapsed(job):
        _require(job, (JobStatus.FAILED, JobStatus.CANCELLED), "retry")
    before = {"status": job.status, "error": job.error_message, "attempts": job.attempts}
    _save_and_dispatch(job, status=JobStatus.QUEUED, attempts=0, progress=0, error_message="", finished_at=None,
                       cancel_requested_at=None, started_at=None, lease_expires_at=None)
    _audit(job, "job.retried", actor, {"before": before})
    campaign_job_reopened(job)
    return job


@transaction.atomic
def job_stop_if_requested(*, job: JobRef, usage: Usage | None = None) -> bool:
    """At a step boundary: turn a pending cancellation into `cancelled` (recording what the
    job spent so far). True if stopped."""
    job = _lock(job)
    if job.status == JobStatus.CANCELLED:
        return True
    if job.status == JobStatus.RUNNING and job.cancel_requested_at is not None:
        _finish(job, JobStatus.CANCELLED)
        _audit(job, "job.cancelled", SYSTEM, {"was": "running", "stopped_at": "step boundary"})
        usage_record(job=job, usage=usage, outcome=Outcome.CANCELLED)
        return True
    return False


def _requeue_lapsed(job: Job) -> None:
    lost = job.worker or "a worker"
    if job.cancel_requested_at is not None:
        _finish(job, JobStatus.CANCELLED)
        _audit(job, "job.cancelled", SYSTEM, {"was": "running", "stopped_at": f"{lost} was lost"})
    elif job.attempts >= pressroom_settings.JOB_MAX_ATTEMPTS:
        _failed(job, f"Gave up after {job.attempts} attempts: {lost} stopped renewing its lease.", SYSTEM)
    else:
        _save_and_dispatch(job, status=JobStatus.QUEUED, lease_expires_at=None)
        _audit(job, "job.requeued", SYSTEM, {"reason": "lease expired", "worker": job.worker, "attempt": job.attempts})


def jobs_requeue_lapsed(*, limit: int = 200) -> int:
    """Jobs whose worker stopped renewing the lease (killed, frozen, partitioned): requeue,
    cancel (if asked to) or fail them, one transaction each."""
    lapsed = Job.objects.filter(status=JobStatus.RUNNING).filter(
        Q(lease_expires_at__lte=timezone.now()) | Q(lease_expires_at__isnull=True)).values_list("pk", flat=True)[:limit]
    count = 0
    for job_id in list(lapsed):
        with transaction.atomic():
            job = Job.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
            if job is not None and _lease_lapsed(job):
                _requeue_lapsed(job)
                count += 1
    return count


def jobs_redispatch_forgotten(*, limit: int = 200) -> int:
    """Queued jobs whose message the broker lost (the filesystem broker drops a message a
    killed worker had taken): send another. A spare message is harmless: job_start skips
    finished jobs and jobs another live worker holds."""
    cutoff = timezone.now() - timedelta(seconds=pressroom_settings.REDISPATCH_SECONDS)
    forgotten = (Job.objects.filter(status=JobStatus.QUEUED, cancel_requested_at__isnull=True, dispatches__isnull=True)
                 .filter(Q(dispatched_at__lte=cutoff) | Q(dispatched_at__isnull=True, created_at__lte=cutoff))[:limit])
    count = 0
    for job in forgotten:
        with transaction.atomic():
            _save_and_dispatch(job)
        count += 1
    return count


def jobs_sweep() -> dict[str, int]:
    """The sweeper (celery beat, every SWEEP_SECONDS, on every broker)."""
    return {"requeued": jobs_requeue_lapsed(), "redispatched": jobs_redispatch_forgotten(), "sent": dispatches_relay()}
