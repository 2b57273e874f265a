"""The life of an artifact, in one place: screening results, redaction, review, edits
and publication.

    screening -> passed | flagged | blocked
    passed  -> approved (a reviewer, or the workspace policy) | rejected
    flagged -> approved (a reviewer only) | rejected
    approved -> published | rejected | scheduled (publish at a time)
    scheduled -> published (when its time comes) | approved (cancelled) | rejected

Every change writes one audit event in the same transaction, and is checked twice: here
(the caller's Access, the state) and by the database (a PostgreSQL trigger refuses any
other transition, whatever code or SQL tries it; see jobs/migrations). Safety provides the
checks and a pure `screen()`; publishing provides the feed and the webhooks.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

from django.db import transaction
from django.utils import timezone

from pressroom.accounts.access import Access
from pressroom.accounts.models import Scope
from pressroom.audit.services import SYSTEM, Actor, audit_record
from pressroom.core.errors import InputInvalid, InvalidTransition
from pressroom.core.metrics import DECISIONS, SCREENING
from pressroom.core.text import newlines_normalised
from pressroom.jobs.models import Artifact, ArtifactStatus
from pressroom.publishing.services import feed_append, webhook_event_emit
from pressroom.safety.checks.base import IMAGE_PROMPT, TYPESET_TEXT, CheckResult, Subject, worst_decision
from pressroom.safety.checks.pii import redact
from pressroom.safety.models import SafetyPolicy, SafetyVerdict
from pressroom.safety.screening import Screening, screen, screen_prepare
from pressroom.safety.services import safety_policy_get, verdict_from_result

SCREEN_TASK = "pressroom.safety.screen_artifacts"
PUBLISH_DUE_TASK = "pressroom.jobs.publish_due"
STATUS_OF_DECISION = {"pass": ArtifactStatus.PASSED, "flag": ArtifactStatus.FLAGGED, "block": ArtifactStatus.BLOCKED}

logger = logging.getLogger(__name__)


# -- screening ---------------------------------------------------------------------------
def artifact_subjects(artifact: Artifact) -> list[Subject]:
    """Text artifacts are screened as text, with the job input as the brief the quality
    checks compare them with; image artifacts as an image, the copy typeset on it (a
    banner's headline, CTA and fine print: the brand rules verify its required disclaimers)
    and the prompt that produced it."""
    use_case = artifact.job.use_case
    if artifact.kind == "text":
        return [Subject(text=artifact.text, use_case=use_case, label="artifact", data=artifact.data, brief=artifact.job.input)]
    with artifact.file.open("rb") as handle:
        png = handle.read()
    prompt = str(artifact.generation_params.get("prompt", ""))
    subjects = [Subject(png=png, use_case=use_case, label="image")]
    if artifact.text:
        subjects.append(Subject(text=artifact.text, use_case=use_case, label=TYPESET_TEXT))
    return subjects + ([Subject(text=prompt, use_case=use_case, label=IMAGE_PROMPT)] if prompt else [])


def artifacts_screen(*, artifact_ids: list, actor: Actor = SYSTEM) -> list[Artifact]:
    """Screen artifacts still in `screening`, all checks batched across them."""
    artifacts = list(Artifact.objects.filter(pk__in=artifact_ids, status=ArtifactStatus.SCREENING).select_related("job"))
    by_workspace: dict[int, list[Artifact]] = {}
    for artifact in artifacts:
        by_workspace.setdefault(artifact.workspace_id, []).append(artifact)
    started = time.perf_counter()
    subjects = {artifact.pk: artifact_subjects(artifact) for artifact in artifacts}
    # Model work that does not depend on the policy runs once for every workspace's artifacts.
    screen_prepare([s for per in subjects.values() for s in per])
    for workspace_id, group in by_workspace.items():
        policy = safety_policy_get(workspace=workspace_id)
        screenings = iter(screen([s for artifact in group for s in subjects[artifact.pk]], policy))
        for artifact in group:
            per = subjects[artifact.pk]
            artifact_screen_apply(artifact=artifact, screenings=[next(screenings) for _ in per], policy=policy, actor=actor)
    if artifacts:
        SCREENING.observe(time.perf_counter() - started)
    return artifacts


def artifacts_fail_closed(*, artifact_ids: list, error: str, actor: Actor = SYSTEM) -> None:
    """Screening could not run at all: every artifact goes to human review, with the reason."""
    for artifact in Artifact.objects.filter(pk__in=artifact_ids, status=ArtifactStatus.SCREENING):
        failed = CheckResult("screening", "flag", error=error, reason=f"screening could not run: {error}")
        policy = safety_policy_get(workspace=artifact.workspace_id)
        artifact_screen_apply(artifact=artifact, screenings=[Screening(Subject(label="artifact"), [failed])], policy=policy, actor=actor)


def _redactions(screenings: list[Screening]) -> list:
    return [e for s in screenings for r in s.results if r.check == "pii" for e in r.evidence if e.action == "redact"]


@transaction.atomic
def artifact_screen_apply(*, artifact: Artifact, screenings: list[Screening], policy: SafetyPolicy, actor: Actor = SYSTEM) -> Artifact:
    artifact = Artifact.objects.select_for_update().get(pk=artifact.pk)
    if artifact.status != ArtifactStatus.SCREENING:
        return artifact  # already screened (a redelivered screening task)
    SafetyVerdict.objects.bulk_create(
        verdict_from_result(result, policy, workspace_id=artifact.workspace_id, artifact=artifact)
        for s in screenings for result in s.results
    )
    for result in (r for s in screenings for r in s.results):
        DECISIONS.labels(result.check, result.decision).inc()
    decision = worst_decision([s.decision for s in screenings])
    reasons = [r for s in screenings for r in s.reasons]
    status = STATUS_OF_DECISION[decision]
    artifact.safety_decision, artifact.status = decision, status
    artifact.save(update_fields=["safety_decision", "status"])
    scores = {r.check: {"decision": r.decision, "scores": r.scores, "scored_by": r.scored_by, "error": r.error}
              for s in screenings for r in s.results}
    _audit(artifact, "artifact.screened", actor, {"decision": decision, "checks": scores})
    _audit(artifact, f"artifact.{status}", actor, {"reasons": reasons})
    if status == ArtifactStatus.FLAGGED:
        webhook_event_emit(workspace_id=artifact.workspace_id, event="artifact.flagged",
                           data={"artifact": str(artifact.pk), "job": str(artifact.job_id), "reasons": reasons})
    redactions = _redactions(screenings)
    if redactions and decision != "block" and artifact.kind == "text":
        _redact(artifact, redactions, actor)
    elif decision == "pass" and policy.auto_approve and not _input_flagged(artifact):
        _approve(artifact, actor, reviewer=None, comment="Approved automatically by the workspace policy.")
    return artifact


def _input_flagged(artifact: Artifact) -> bool:
    """A job whose input screening flagged (or could not run) never has its results approved
    without a person, whatever the workspace's auto-approval says."""
    return artifact.job.input_verdicts.exclude(decision="pass").exists()


def _audit(artifact: Artifact, action: str, actor: Actor, data: dict | None = None) -> None:
    audit_record(workspace_id=artifact.workspace_id, action=action, object_type="artifact", object_id=artifact.pk, actor=actor, data=data)


def _new_revision(artifact: Artifact, text: str) -> Artifact:
    latest = Artifact.objects.filter(job=artifact.job, variant_index=artifact.variant_index).order_by("-revision").first()
    return Artifact.objects.create(
        job=artifact.job, workspace_id=artifact.workspace_id, kind=artifact.kind, variant_index=artifact.variant_index,
        text=text, data=artifact.data, revision=latest.revision + 1, revision_of=artifact, model_alias=artifact.model_alias,
        model_source=artifact.model_source, model_revision=artifact.model_revision,
        model_placeholder=artifact.model_placeholder, generation_params=artifact.generation_params, seed=artifact.seed,
    )


def _screen_on_commit(artifact: Artifact) -> None:
    from pressroom.celery import app

    transaction.on_commit(lambda: app.send_task(SCREEN_TASK, kwargs={"artifact_ids": [str(artifact.pk)]}, queue="cpu"))


def _supersede(artifact: Artifact, comment: str, actor: Actor, reviewer: Access | None = None) -> None:
    """An edit or a redaction replaced this revision: it is rejected, never publishable."""
    _record_review(artifact, ArtifactStatus.REJECTED, reviewer, comment)
    _audit(artifact, "artifact.rejected", actor, {"comment": comment})


def _redact(artifact: Artifact, evidence: list, actor: Actor) -> Artifact:
    """The workspace asked for redaction: a new revision without the personal data is
    screened; the original is rejected as superseded."""
    revision = _new_revision(artifact, redact(artifact.text, evidence))
    _supersede(artifact, f"Superseded by redacted revision {revision.revision}.", actor)
    _audit(revision, "artifact.redacted", actor, {
        "revision_of": str(artifact.pk), "revision": revision.revision,
        "removed": [{"category": e.category, "start": e.start, "end": e.end} for e in evidence],
    })
    _screen_on_commit(revision)
    return revision


# -- review and publication ------------------------------------------------------
def _lock_artifact(artifact: Artifact, access: Access, scope: str) -> Artifact:
    access.require_object(artifact)
    access.require(scope)
    return Artifact.objects.select_for_update().select_related("job").get(pk=artifact.pk, workspace=access.workspace)


def _require_status(artifact: Artifact, allowed: tuple[str, ...], action: str) -> None:
    if artifact.safety_decision == "block" and action in ("approve", "publish", "edit", "schedule"):
        raise InvalidTransition(f"Cannot {action} artifact {artifact.pk}: it was blocked by the safety stage.")
    if artifact.status not in allowed:
        raise InvalidTransition(f"Cannot {action} artifact {artifact.pk}: it is {artifact.status} (allowed from {', '.join(allowed)}).")


def _record_review(artifact: Artifact, status: str, reviewer: Access | None, comment: str) -> None:
    artifact.status, artifact.reviewed_at, artifact.review_comment = status, timezone.now(), comment
    artifact.reviewed_by = reviewer.user if reviewer else None
    artifact.reviewed_by_api_key = reviewer.api_key if reviewer else None
    artifact.publish_at = None  # a rejected artifact no longer waits for its time
    artifact.save(update_fields=["status", "reviewed_by", "reviewed_by_api_key", "reviewed_at", "review_comment", "publish_at"])


def _approve(artifact: Artifact, actor: Actor, reviewer: Access | None, comment: str) -> Artifact:
    _record_review(artifact, ArtifactStatus.APPROVED, reviewer, comment)
    _audit(artifact, "artifact.approved", actor, {"comment": comment, "automatic": reviewer is None})
    return artifact


@transaction.atomic
def artifact_approve(*, artifact: Artifact, access: Access, comment: str = "") -> Artifact:
    artifact = _lock_artifact(artifact, access, Scope.CONTENT_REVIEW)
    _require_status(artifact, (ArtifactStatus.PASSED, ArtifactStatus.FLAGGED), "approve")
    return _approve(artifact, access.actor, access, comment)


@transaction.atomic
def artifact_reject(*, artifact: Artifact, access: Access, comment: str) -> Artifact:
    artifact = _lock_artifact(artifact, access, Scope.CONTENT_REVIEW)
    _require_status(artifact, (ArtifactStatus.PASSED, ArtifactStatus.FLAGGED, ArtifactStatus.APPROVED, ArtifactStatus.SCHEDULED),
                    "reject")
    if not comment.strip():
        raise InputInvalid("A rejection needs a comment.", {"comment": ["Say why the artifact is rejected."]})
    _record_review(artifact, ArtifactStatus.REJECTED, access, comment)
    _audit(artifact, "artifact.rejected", access.actor, {"comment": comment})
    return artifact


@transaction.atomic
def artifact_edit(*, artifact: Artifact, access: Access, text: str, comment: str = "") -> Artifact:
    """A reviewer's edit makes a new revision that is screened again; the edited one is
    rejected as superseded. The new revision still needs approval after screening."""
    artifact = _lock_artifact(artifact, access, Scope.CONTENT_REVIEW)
    _require_status(artifact, (ArtifactStatus.PASSED, ArtifactStatus.FLAGGED), "edit")
    if artifact.kind != "text":
        raise InvalidTransition("Only text artifacts can be edited.")
    text = newlines_normalised(text)  # a browser's CRLF would reach the feed and the spans' offsets
    if not text.strip():
        raise InputInvalid("The edited text is empty.", {"text": ["This field may not be blank."]})
    revision = _new_revision(artifact, text)
    _supersede(artifact, f"Superseded by revision {revision.revision}. {comment}".strip(), access.actor, access)
    _audit(revision, "artifact.edited", access.actor,
           {"revision_of": str(artifact.pk), "revision": revision.revision, "before": artifact.text, "after": text})
    _screen_on_commit(revision)
    return revision


@transaction.atomic
def artifact_publish(*, artifact: Artifact, access: Access) -> Artifact:
    """Publish an approved artifact now (a scheduled one too, ahead of its time): status,
    feed row, audit event and webhook in one transaction. Blocked, unreviewed, rejected and
    still-screening artifacts are refused."""
    artifact = _lock_artifact(artifact, access, Scope.CONTENT_PUBLISH)
    _require_status(artifact, (ArtifactStatus.APPROVED, ArtifactStatus.SCHEDULED), "publish")
    return _publish(artifact, access.actor)


def _publish(artifact: Artifact, actor: Actor) -> Artifact:
    """The one way an artifact is published, by a person or by its schedule; the caller
    holds the artifact's row lock and has checked its state."""
    artifact.status, artifact.published_at = ArtifactStatus.PUBLISHED, timezone.now()
    artifact.save(update_fields=["status", "published_at"])
    item = feed_append(artifact=artifact)
    scheduled = {"publish_at": artifact.publish_at.isoformat()} if artifact.publish_at else {}
    _audit(artifact, "artifact.published", actor, {"feed_position": item.position, **scheduled})
    webhook_event_emit(workspace_id=artifact.workspace_id, event="artifact.published",
                       data={"artifact": str(artifact.pk), "job": str(artifact.job_id), "kind": artifact.kind,
                             "text": artifact.text, "data": artifact.data, "feed_position": item.position,
                             **_file_links(artifact)})
    return artifact


# -- publishing at a time ----------------------------------------------------------
def _check_publish_at(publish_at: Any) -> datetime:
    if not isinstance(publish_at, datetime):
        raise InputInvalid("Give a time to publish at.", {"publish_at": ["Expected a date and time."]})
    if timezone.is_naive(publish_at):
        raise InputInvalid("The time to publish at needs a time zone.",
                           {"publish_at": ["Give an offset or Z, e.g. 2030-05-01T09:00:00+02:00."]})
    try:
        # Stored in UTC: PostgreSQL refuses some offsets Python accepts (e.g. +18:44).
        publish_at = publish_at.astimezone(dt_timezone.utc)
    except OverflowError:
        raise InputInvalid("The time to publish at is out of range.", {"publish_at": ["Choose a time before 9999."]}) from None
    if publish_at <= timezone.now():
        raise InputInvalid("The time to publish at has passed.", {"publish_at": ["Choose a time in the future."]})
    return publish_at


@transaction.atomic
def artifact_schedule_publish(*, artifact: Artifact, access: Access, publish_at: datetime) -> Artifact:
    """An approved artifact waits in `scheduled` and is published at `publish_at` by the
    periodic publish task; a scheduled one moves to the new time."""
    publish_at = _check_publish_at(publish_at)
    artifact = _lock_artifact(artifact, access, Scope.CONTENT_PUBLISH)
    _require_status(artifact, (ArtifactStatus.APPROVED, ArtifactStatus.SCHEDULED), "schedule")
    before = artifact.publish_at
    artifact.status, artifact.publish_at = ArtifactStatus.SCHEDULED, publish_at
    artifact.save(update_fields=["status", "publish_at"])
    _audit(artifact, "artifact.scheduled", access.actor,
           {"publish_at": publish_at.isoformat(), "before": before.isoformat() if before else None})
    return artifact


@transaction.atomic
def artifact_schedule_cancel(*, artifact: Artifact, access: Access) -> Artifact:
    """A scheduled artifact goes back to approved, its review kept; nothing is published."""
    artifact = _lock_artifact(artifact, access, Scope.CONTENT_PUBLISH)
    _require_status(artifact, (ArtifactStatus.SCHEDULED,), "cancel the schedule of")
    publish_at, artifact.status, artifact.publish_at = artifact.publish_at, ArtifactStatus.APPROVED, None
    artifact.save(update_fields=["status", "publish_at"])
    _audit(artifact, "artifact.schedule_cancelled", access.actor, {"publish_at": publish_at.isoformat()})
    return artifact


def publish_schedule_actor(artifact: Artifact) -> Actor:
    """The audit actor of an artifact's own schedule."""
    return Actor.schedule(f"publish_at:{artifact.pk}", f"publish at {artifact.publish_at.isoformat()}")


def artifacts_publish_due(*, limit: int = 200) -> int:
    """Publish scheduled artifacts whose time has come, each in its own transaction, the
    schedule as the actor. Safe with sweeps running at once (a row another sweep holds is
    skipped) and with cancellations and rejections meanwhile (the state is read again
    under the lock). Returns how many were published."""
    due = list(Artifact.objects.filter(status=ArtifactStatus.SCHEDULED, publish_at__lte=timezone.now())
               .order_by("publish_at").values_list("pk", flat=True)[:limit])
    published = 0
    for artifact_id in due:
        try:
            published += _publish_if_due(artifact_id)
        except Exception as error:  # noqa: BLE001 - one artifact's failure must not hold back the others
            logger.exception("Scheduled publication of artifact %s failed", artifact_id)
            _schedule_failed(artifact_id, error)
    return published


@transaction.atomic
def _publish_if_due(artifact_id) -> bool:
    artifact = (Artifact.objects.select_for_update(skip_locked=True, of=("self",)).select_related("job")
                .filter(pk=artifact_id, status=ArtifactStatus.SCHEDULED, publish_at__lte=timezone.now()).first())
    if artifact is None:
        return False  # another sweep has it, or it was published, cancelled or rejected meanwhile
    _publish(artifact, publish_schedule_actor(artifact))
    return True


@transaction.atomic
def _schedule_failed(artifact_id, error: Exception) -> None:
    """A publication that failed is not retried every sweep: the artifact goes back to
    approved, with the reason in the audit trail, for a person to look at."""
    artifact = Artifact.objects.select_for_update(skip_locked=True).filter(pk=artifact_id, status=ArtifactStatus.SCHEDULED).first()
    if artifact is None:
        return
    actor = publish_schedule_actor(artifact)
    publish_at, artifact.status, artifact.publish_at = artifact.publish_at, ArtifactStatus.APPROVED, None
    artifact.save(update_fields=["status", "publish_at"])
    _audit(artifact, "artifact.schedule_failed", actor, {"publish_at": publish_at.isoformat(), "reason": str(error)[:500]})


def _file_links(artifact: Artifact) -> dict[str, Any]:
    """A CMS embeds the image through a signed, expiring link that needs no key."""
    if not artifact.file:
        return {}
    from pressroom.jobs.media import absolute, artifact_signed_url

    return {"file_url": absolute(artifact_signed_url(artifact))}
