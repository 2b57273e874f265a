"""Writes for campaigns: many jobs of one use case from one upload or request.

A campaign is accepted whole or not at all. Every row is validated (the per-row report
names row, field and message) and screened by the request-time checks before anything is
written; then one transaction writes the campaign, its jobs, their input verdicts, their
audit events (one ordered chain, appended in bulk) and their outbox rows. The worker
screens every input again with every check before spending model time, as for any job.
"""
from __future__ import annotations

import random
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from pressroom.accounts.access import Access
from pressroom.accounts.models import Scope
from pressroom.audit.services import PendingEvent, audit_record, audit_record_many
from pressroom.campaigns.models import Campaign, CampaignSource
from pressroom.campaigns.rows import CampaignRowsInvalid, RowError, check_inline_rows
from pressroom.conf import pressroom_settings
from pressroom.core.errors import InputInvalid, InvalidTransition
from pressroom.jobs.dispatch import jobs_dispatch_many
from pressroom.jobs.models import Artifact, ArtifactStatus, Job, JobDispatch, JobStatus
from pressroom.jobs.services.jobs import job_priority_check
from pressroom.jobs.validation import job_input_validate, use_case_get
from pressroom.plugins import UseCase
from pressroom.plugins.selectors import use_case_check_offered
from pressroom.safety.models import SafetyVerdict
from pressroom.safety.services import InputScreening, bulk_input_screen, verdict_from_result
from pressroom.usage.services import quota_reserve


def campaign_create(
    *,
    access: Access,
    use_case_key: str,
    rows: Any,
    name: str = "",
    priority: int | None = None,
    source: str = CampaignSource.API,
    origin: dict | None = None,
) -> Campaign:
    """Validate and screen every row, then create the campaign and one job per row in one
    transaction. Any invalid or blocked row refuses the whole campaign (CampaignRowsInvalid
    with the per-row report) and nothing is written."""
    access.require(Scope.JOBS_WRITE)
    priority = job_priority_check(pressroom_settings.CAMPAIGN_DEFAULT_PRIORITY if priority is None else priority)
    use_case = use_case_check_offered(workspace=access.workspace, use_case=use_case_get(use_case_key))
    name = _check_name(name) or f"{use_case.title}, {timezone.now():%Y-%m-%d %H:%M}"
    inputs = _validated_inputs(use_case, check_inline_rows(rows))
    screenings = _screened(access, use_case, inputs)
    with transaction.atomic():
        quota_reserve(workspace=access.workspace, jobs=len(inputs))  # the whole campaign, or none of it
        campaign = Campaign.objects.create(
            workspace=access.workspace, name=name, use_case=use_case.key, priority=priority, source=source,
            origin=origin or {}, total_jobs=len(inputs), created_by=access.user,
        )
        jobs = _create_jobs(campaign, use_case, inputs, access)
        _save_verdicts(jobs, screenings)
        _audit_creation(campaign, jobs, screenings, access)
        jobs_dispatch_many(jobs=jobs)
    return campaign


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or len(name) > 200:
        raise InputInvalid("Invalid name.", {"name": ["Text of at most 200 characters."]})
    return name.strip()


def _validated_inputs(use_case: UseCase, rows: list[dict]) -> list[dict]:
    inputs, errors = [], []
    for number, row in enumerate(rows, start=1):
        try:
            inputs.append(job_input_validate(use_case=use_case, raw_input=row))
        except InputInvalid as error:
            errors.extend(RowError(number, field, message)
                          for field, messages in (error.field_errors or {"input": [error.message]}).items()
                          for message in messages)
    if errors:
        rows_with_errors = len({error.row for error in errors})
        raise CampaignRowsInvalid(f"{rows_with_errors} of {len(rows)} rows are invalid; nothing was created.", errors)
    return inputs


def _screened(access: Access, use_case: UseCase, inputs: list[dict]) -> list[InputScreening]:
    """Request-time checks on every row in one batch; a blocked row is a row error (and
    the refusal is audited, as for a single job)."""
    screenings = bulk_input_screen(workspace=access.workspace, use_case=use_case, inputs=inputs)
    errors = [RowError(number, item.subject.label.removeprefix("input."), f"Blocked by {result.check}: {result.reason}")
              for number, screening in enumerate(screenings, start=1)
              for item in screening.screenings if item.decision == "block"
              for result in item.results if result.decision == "block"]
    if errors:
        with transaction.atomic():
            audit_record(workspace_id=access.workspace.pk, action="campaign.input_blocked", object_type="campaign_request",
                         object_id="-", actor=access.actor,
                         data={"use_case": use_case.key, "rows": [e.as_dict() for e in errors[:100]], "blocked": len(errors)})
        raise CampaignRowsInvalid(f"{len({e.row for e in errors})} rows were blocked by the safety policy; nothing was created.", errors)
    return screenings


def _create_jobs(campaign: Campaign, use_case: UseCase, inputs: list[dict], access: Access) -> list[Job]:
    seeds, now = random.SystemRandom(), timezone.now()
    jobs = [
        Job(id=uuid.uuid4(), workspace=campaign.workspace, use_case=use_case.key, modality=use_case.modality,
            input=data, priority=campaign.priority, base_seed=seeds.randrange(2**31), dispatched_at=now,
            created_by=access.user, campaign=campaign, campaign_row=number)
        for number, data in enumerate(inputs, start=1)
    ]
    return Job.objects.bulk_create(jobs, batch_size=2000)


def _save_verdicts(jobs: list[Job], screenings: list[InputScreening]) -> None:
    """The verdicts that matter at this point: every flag (a flagged input's results always
    need a person) and every check that could not run. Each job's decision is in its
    job.created event; the worker stores all of its input verdicts before generation."""
    SafetyVerdict.objects.bulk_create(
        (verdict_from_result(result, screening.policy, workspace_id=job.workspace_id, job=job)
         for job, screening in zip(jobs, screenings) for item in screening.screenings for result in item.results
         if result.decision != "pass" or result.error),
        batch_size=2000,
    )


def _audit_creation(campaign: Campaign, jobs: list[Job], screenings: list[InputScreening], access: Access) -> None:
    events = [PendingEvent("campaign.created", "campaign", campaign.pk, {
        "name": campaign.name, "use_case": campaign.use_case, "jobs": len(jobs), "priority": campaign.priority,
        "source": campaign.source, "origin": campaign.origin,
    })]
    events += [PendingEvent("job.created", "job", job.pk, {
        "use_case": job.use_case, "priority": job.priority, "input": job.input, "input_screening": screening.decision,
        "campaign": str(campaign.pk), "row": job.campaign_row,
    }) for job, screening in zip(jobs, screenings)]
    audit_record_many(workspace_id=campaign.workspace_id, events=events, actor=access.actor)


# -- cancel ----------------------------------------------------------------------------
@transaction.atomic
def campaign_cancel(*, campaign: Campaign, access: Access) -> dict[str, int]:
    """Cancel what has not run: queued jobs are cancelled at once, running ones are asked
    to stop at their next step boundary (as a single job's cancel does)."""
    access.require_object(campaign)
    access.require(Scope.JOBS_WRITE)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.finished_at is not None:
        raise InvalidTransition(f"Campaign {campaign.pk} has finished; there is nothing left to cancel.")
    now = timezone.now()
    queued = list(campaign.jobs.filter(status=JobStatus.QUEUED).select_for_update().values_list("pk", flat=True))
    running = list(campaign.jobs.filter(status=JobStatus.RUNNING, cancel_requested_at__isnull=True)
                   .select_for_update().values_list("pk", flat=True))
    Job.objects.filter(pk__in=queued).update(status=JobStatus.CANCELLED, finished_at=now, cancel_requested_at=now,
                                             lease_expires_at=None)
    JobDispatch.objects.filter(job_id__in=queued).delete()
    Job.objects.filter(pk__in=running).update(cancel_requested_at=now)
    events = [PendingEvent("campaign.cancelled", "campaign", campaign.pk, {"queued_cancelled": len(queued),
                                                                          "running_asked_to_stop": len(running)})]
    events += [PendingEvent("job.cancelled", "job", pk, {"was": "queued", "campaign": str(campaign.pk)}) for pk in queued]
    events += [PendingEvent("job.cancel_requested", "job", pk, {"campaign": str(campaign.pk)}) for pk in running]
    audit_record_many(workspace_id=campaign.workspace_id, events=events, actor=access.actor)
    from pressroom.campaigns.events import campaign_finish_if_done

    campaign_finish_if_done(campaign)
    return {"queued_cancelled": len(queued), "running_asked_to_stop": len(running)}


# -- bulk review -----------------------------------------------------------------------
@transaction.atomic
def campaign_artifacts_approve(*, campaign: Campaign, access: Access, artifact_ids: list | None = None,
                               comment: str = "") -> int:
    """Approve a campaign's results in one go: the chosen artifacts (passed or flagged, as a
    reviewer may approve one at a time), or without a choice every artifact that passed
    screening. Blocked artifacts are never approved. Returns how many were approved."""
    access.require_object(campaign)
    access.require(Scope.CONTENT_REVIEW)
    artifacts = Artifact.objects.select_for_update().filter(job__campaign=campaign, workspace=access.workspace)
    if artifact_ids is None:
        artifacts = artifacts.filter(status=ArtifactStatus.PASSED)
    else:
        artifacts = _chosen(artifacts, artifact_ids)
    chosen = list(artifacts.exclude(safety_decision="block").values_list("pk", flat=True))
    Artifact.objects.filter(pk__in=chosen).update(
        status=ArtifactStatus.APPROVED, reviewed_by=access.user, reviewed_by_api_key=access.api_key,
        reviewed_at=timezone.now(), review_comment=comment,
    )
    audit_record_many(workspace_id=campaign.workspace_id, actor=access.actor, events=[
        PendingEvent("artifact.approved", "artifact", pk, {"comment": comment, "automatic": False,
                                                            "campaign": str(campaign.pk)}) for pk in chosen])
    return len(chosen)


def _chosen(artifacts, artifact_ids: list):
    try:
        ids = {uuid.UUID(str(value)) for value in artifact_ids}
    except ValueError:
        raise InputInvalid("Invalid artifact ids.", {"artifact_ids": ["Each must be an artifact id (a UUID)."]}) from None
    chosen = artifacts.filter(pk__in=ids)
    found = set(chosen.values_list("pk", flat=True))
    missing = ids - found
    if missing:
        raise InputInvalid("Unknown artifacts.", {"artifact_ids": [f"Not results of this campaign: {', '.join(sorted(map(str, missing))[:10])}."]})
    not_reviewable = chosen.exclude(status__in=(ArtifactStatus.PASSED, ArtifactStatus.FLAGGED))
    if not_reviewable.exists():
        first = not_reviewable.first()
        raise InvalidTransition(f"Cannot approve artifact {first.pk}: it is {first.status} (allowed from passed, flagged).")
    return chosen
