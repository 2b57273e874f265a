"""Screening, review and publication of artifacts, and the workspace safety policy.

Artifact states: screening -> passed | flagged | blocked -> approved | rejected -> published.
Every change writes one audit event in the same transaction. A blocked artifact can
never be approved or published (here, and by database constraints on Artifact).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from pressroom.accounts.models import Membership, Role, Workspace
from pressroom.audit.services import SYSTEM, Actor, audit_record
from pressroom.core.errors import InputInvalid, InvalidTransition, PressroomError
from pressroom.jobs.models import Artifact, ArtifactStatus, Job
from pressroom.plugins import UseCase
from pressroom.publishing.services import feed_append, webhook_event_emit
from pressroom.safety.checks.base import Subject
from pressroom.safety.checks.pii import redact
from pressroom.safety.models import SafetyPolicy, SafetyVerdict
from pressroom.safety.screening import Screening, screen

REVIEWER_ROLES = (Role.REVIEWER, Role.ADMIN)
POLICY_FIELDS = (
    "auto_approve", "toxicity_flag_thresholds", "toxicity_block_thresholds", "pii_actions", "banned_terms",
    "competitor_names", "required_disclaimers", "max_chars", "nsfw_flag_threshold", "nsfw_block_threshold",
)


class InputBlocked(InputInvalid):
    code = "input_blocked"


class NotAllowed(PressroomError):
    code = "permission_denied"


def safety_policy_get(*, workspace: Workspace | int) -> SafetyPolicy:
    workspace_id = workspace.pk if isinstance(workspace, Workspace) else workspace
    policy, _ = SafetyPolicy.objects.get_or_create(workspace_id=workspace_id)
    return policy


@transaction.atomic
def safety_policy_update(*, workspace: Workspace, actor: Actor, **changes: Any) -> SafetyPolicy:
    unknown = sorted(set(changes) - set(POLICY_FIELDS))
    if unknown:
        raise InputInvalid("Unknown policy fields.", {name: ["Not a safety policy setting."] for name in unknown})
    policy = SafetyPolicy.objects.select_for_update().get(pk=safety_policy_get(workspace=workspace).pk)
    before = {name: getattr(policy, name) for name in changes}
    for name, value in changes.items():
        setattr(policy, name, value)
    policy.full_clean()
    policy.save()
    audit_record(
        workspace_id=workspace.pk, action="workspace.policy_changed", object_type="safety_policy",
        object_id=policy.pk, actor=actor, data={"before": before, "after": changes},
    )
    return policy


# -- input screening -------------------------------------------------------------
def _input_subjects(value: Any, path: str, use_case: str) -> list[Subject]:
    if isinstance(value, str):
        return [Subject(text=value, use_case=use_case, label=f"input.{path}")] if value.strip() else []
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    return [s for key, child in children for s in _input_subjects(child, f"{path}.{key}" if path else str(key), use_case)]


@dataclass
class InputScreening:
    screenings: list[Screening] = field(default_factory=list)

    @property
    def decision(self) -> str:
        from pressroom.safety.checks.base import worst_decision

        return worst_decision([s.decision for s in self.screenings])

    def save_for(self, job: Job) -> None:
        SafetyVerdict.objects.bulk_create(
            _verdict(result, workspace_id=job.workspace_id, job=job)
            for screening in self.screenings for result in screening.results
        )


def _verdict(result, **subject) -> SafetyVerdict:
    data = result.as_dict()
    return SafetyVerdict(
        check_name=result.check, decision=result.decision, scores=data["scores"], thresholds=data["thresholds"],
        evidence=data["evidence"], scored_by=result.scored_by, error=result.error, **subject,
    )


def job_input_screen(*, workspace: Workspace, use_case: UseCase, validated_input: dict, actor: Actor) -> InputScreening:
    """Screen every text field of a job's input before any model time is spent.
    A blocked field refuses the job with the rule and the reason; the refusal is audited."""
    subjects = _input_subjects(validated_input, "", use_case.key)
    screening = InputScreening(screen(subjects, safety_policy_get(workspace=workspace)) if subjects else [])
    blocked = [s for s in screening.screenings if s.decision == "block"]
    if blocked:
        errors: dict[str, list[str]] = {}
        for item in blocked:
            field_name = item.subject.label.removeprefix("input.")
            errors.setdefault(field_name, []).extend(
                f"Blocked by {r.check}: {r.reason}" for r in item.results if r.decision == "block"
            )
        with transaction.atomic():
            audit_record(
                workspace_id=workspace.pk, action="job.input_blocked", object_type="job_request", object_id="-",
                actor=actor, data={"use_case": use_case.key, "reasons": errors},
            )
        raise InputBlocked("The request was blocked by the safety policy.", errors)
    return screening


def jobs_input_rescreen(*, jobs: list[Job]) -> dict[Any, str]:
    """Screen job inputs with this process's checks (a worker's detoxify model), all
    jobs in one batch. Verdicts are kept; returns {job id: reason} for blocked jobs."""
    subjects = [(job, s) for job in jobs for s in _input_subjects(job.input, "", job.use_case)]
    if not subjects:
        return {}
    by_workspace: dict[int, list] = {}
    for job, subject in subjects:
        by_workspace.setdefault(job.workspace_id, []).append((job, subject))
    blocked: dict[Any, str] = {}
    for workspace_id, pairs in by_workspace.items():
        screenings = screen([subject for _, subject in pairs], safety_policy_get(workspace=workspace_id))
        SafetyVerdict.objects.bulk_create(
            _verdict(result, workspace_id=workspace_id, job=job) for (job, _), sc in zip(pairs, screenings) for result in sc.results
        )
        for (job, subject), sc in zip(pairs, screenings):
            if sc.decision == "block" and job.pk not in blocked:
                field_name = subject.label.removeprefix("input.")
                blocked[job.pk] = f"Input blocked ({field_name}): " + "; ".join(sc.reasons)
    return blocked


# -- artifact screening ----------------------------------------------------------
def artifact_subjects(artifact: Artifact) -> list[Subject]:
    """Text artifacts are screened as text; image artifacts as an image plus the
    prompt that produced it."""
    use_case = artifact.job.use_case
    if artifact.kind == "text":
        return [Subject(text=artifact.text, use_case=use_case, label="artifact", data=artifact.data)]
    with artifact.file.open("rb") as handle:
        png = handle.read()
    prompt = str(artifact.generation_params.get("prompt", ""))
    subjects = [Subject(png=png, use_case=use_case, label="image")]
    return subjects + ([Subject(text=prompt, use_case=use_case, label="image prompt")] if prompt else [])


def artifacts_screen(*, artifact_ids: list, actor: Actor = SYSTEM) -> list[Artifact]:
    """Screen artifacts still in `screening`, all checks batched across them."""
    artifacts = list(Artifact.objects.filter(pk__in=artifact_ids, status=ArtifactStatus.SCREENING).select_related("job"))
    by_workspace: dict[int, list[Artifact]] = {}
    for artifact in artifacts:
        by_workspace.setdefault(artifact.workspace_id, []).append(artifact)
    for workspace_id, group in by_workspace.items():
        policy = safety_policy_get(workspace=workspace_id)
        subjects = [artifact_subjects(artifact) for artifact in group]
        screenings = iter(screen([s for per in subjects for s in per], policy))
        for artifact, per in zip(group, subjects):
            artifact_screen_apply(artifact=artifact, screenings=[next(screenings) for _ in per], policy=policy, actor=actor)
    return artifacts


def artifacts_fail_closed(*, artifact_ids: list, error: str, actor: Actor = SYSTEM) -> None:
    """Screening could not run at all: every artifact goes to human review, with the reason."""
    from pressroom.safety.checks.base import CheckResult

    for artifact in Artifact.objects.filter(pk__in=artifact_ids, status=ArtifactStatus.SCREENING):
        failed = CheckResult("screening", "flag", error=error, reason=f"screening could not run: {error}")
        policy = safety_policy_get(workspace=artifact.workspace_id)
        artifact_screen_apply(artifact=artifact, screenings=[Screening(Subject(label="artifact"), [failed])], policy=policy, actor=actor)


def _combined(screenings: list[Screening]) -> tuple[str, list[str]]:
    from pressroom.safety.checks.base import worst_decision

    return worst_decision([s.decision for s in screenings]), [r for s in screenings for r in s.reasons]


def _redactions(screenings: list[Screening]) -> list:
    return [e for s in screenings for r in s.results if r.check == "pii" for e in r.evidence if e.action == "redact"]


@transaction.atomic
def artifact_screen_apply(*, artifact: Artifact, screenings: list[Screening], policy: SafetyPolicy, actor: Actor = SYSTEM) -> Artifact:
    artifact = Artifact.objects.select_for_update().get(pk=artifact.pk)
    if artifact.status != ArtifactStatus.SCREENING:
        return artifact  # already screened (a redelivered screening task)
    SafetyVerdict.objects.bulk_create(
        _verdict(result, workspace_id=artifact.workspace_id, artifact=artifact) for s in screenings for result in s.results
    )
    decision, reasons = _combined(screenings)
    status = {"pass": ArtifactStatus.PASSED, "flag": ArtifactStatus.FLAGGED, "block": ArtifactStatus.BLOCKED}[decision]
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
    elif decision == "pass" and policy.auto_approve:
        _approve(artifact, actor, reviewer=None, comment="Approved automatically by the workspace policy.")
    return artifact


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


SCREEN_TASK = "pressroom.safety.screen_artifacts"


def _redact(artifact: Artifact, evidence: list, actor: Actor) -> Artifact:
    """The workspace asked for redaction: a new revision without the personal data is
    screened; the original is rejected as superseded and never publishable."""
    revision = _new_revision(artifact, redact(artifact.text, evidence))
    artifact.status = ArtifactStatus.REJECTED
    artifact.review_comment = f"Superseded by redacted revision {revision.revision}."
    artifact.save(update_fields=["status", "review_comment"])
    _audit(artifact, "artifact.rejected", actor, {"comment": artifact.review_comment})
    _audit(revision, "artifact.redacted", actor, {
        "revision_of": str(artifact.pk), "revision": revision.revision,
        "removed": [{"category": e.category, "start": e.start, "end": e.end} for e in evidence],
    })
    _screen_on_commit(revision)
    return revision


# -- review and publication ------------------------------------------------------
@dataclass(frozen=True)
class Reviewer:
    """Who reviews: a member with the reviewer or admin role, or an API key that the
    API layer has checked for the content:review scope."""

    user: AbstractBaseUser | None = None
    api_key: Any = None

    @property
    def actor(self) -> Actor:
        return Actor.for_api_key(self.api_key) if self.api_key is not None else Actor.for_user(self.user)


def _as_reviewer(reviewer: AbstractBaseUser | Reviewer) -> Reviewer:
    return reviewer if isinstance(reviewer, Reviewer) else Reviewer(user=reviewer)


def _require_reviewer(artifact: Artifact, reviewer: AbstractBaseUser | Reviewer) -> None:
    reviewer = _as_reviewer(reviewer)
    if reviewer.api_key is not None:
        if reviewer.api_key.workspace_id != artifact.workspace_id:
            raise NotAllowed("This API key belongs to another workspace.")
        return
    user = reviewer.user
    if getattr(user, "is_superuser", False):
        return  # operators
    allowed = Membership.objects.filter(workspace_id=artifact.workspace_id, user=user, role__in=REVIEWER_ROLES).exists()
    if not allowed:
        raise NotAllowed("Only reviewers and admins of this workspace can review artifacts.")


def _lock_artifact(artifact: Artifact) -> Artifact:
    return Artifact.objects.select_for_update().select_related("job").get(pk=artifact.pk)


def _require_status(artifact: Artifact, allowed: tuple[str, ...], action: str) -> None:
    if artifact.safety_decision == "block" and action in ("approve", "publish", "edit"):
        raise InvalidTransition(f"Cannot {action} artifact {artifact.pk}: it was blocked by the safety stage.")
    if artifact.status not in allowed:
        raise InvalidTransition(f"Cannot {action} artifact {artifact.pk}: it is {artifact.status} (allowed from {', '.join(allowed)}).")


def _record_review(artifact: Artifact, status: str, reviewer: Reviewer | None, comment: str) -> None:
    artifact.status, artifact.reviewed_at, artifact.review_comment = status, timezone.now(), comment
    artifact.reviewed_by = reviewer.user if reviewer else None
    artifact.reviewed_by_api_key = reviewer.api_key if reviewer else None
    artifact.save(update_fields=["status", "reviewed_by", "reviewed_by_api_key", "reviewed_at", "review_comment"])


def _approve(artifact: Artifact, actor: Actor, reviewer: Reviewer | None, comment: str) -> Artifact:
    _record_review(artifact, ArtifactStatus.APPROVED, reviewer, comment)
    _audit(artifact, "artifact.approved", actor, {"comment": comment, "automatic": reviewer is None})
    return artifact


@transaction.atomic
def artifact_approve(*, artifact: Artifact, reviewer: AbstractBaseUser | Reviewer, comment: str = "") -> Artifact:
    artifact = _lock_artifact(artifact)
    _require_reviewer(artifact, reviewer)
    _require_status(artifact, (ArtifactStatus.PASSED, ArtifactStatus.FLAGGED), "approve")
    reviewer = _as_reviewer(reviewer)
    return _approve(artifact, reviewer.actor, reviewer, comment)


@transaction.atomic
def artifact_reject(*, artifact: Artifact, reviewer: AbstractBaseUser | Reviewer, comment: str) -> Artifact:
    artifact = _lock_artifact(artifact)
    _require_reviewer(artifact, reviewer)
    _require_status(artifact, (ArtifactStatus.PASSED, ArtifactStatus.FLAGGED, ArtifactStatus.APPROVED), "reject")
    if not comment.strip():
        raise InputInvalid("A rejection needs a comment.", {"comment": ["Say why the artifact is rejected."]})
    reviewer = _as_reviewer(reviewer)
    _record_review(artifact, ArtifactStatus.REJECTED, reviewer, comment)
    _audit(artifact, "artifact.rejected", reviewer.actor, {"comment": comment})
    return artifact


@transaction.atomic
def artifact_edit(*, artifact: Artifact, editor: AbstractBaseUser, text: str, comment: str = "") -> Artifact:
    """A reviewer's edit makes a new revision that is screened again; the edited one is
    rejected as superseded. The new revision still needs approval after screening."""
    artifact = _lock_artifact(artifact)
    _require_reviewer(artifact, editor)
    _require_status(artifact, (ArtifactStatus.PASSED, ArtifactStatus.FLAGGED), "edit")
    if artifact.kind != "text":
        raise InvalidTransition("Only text artifacts can be edited.")
    if not text.strip():
        raise InputInvalid("The edited text is empty.", {"text": ["This field may not be blank."]})
    revision = _new_revision(artifact, text)
    actor = Actor.for_user(editor)
    artifact.status, artifact.reviewed_by, artifact.reviewed_at = ArtifactStatus.REJECTED, editor, timezone.now()
    artifact.review_comment = f"Superseded by revision {revision.revision}. {comment}".strip()
    artifact.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_comment"])
    _audit(artifact, "artifact.rejected", actor, {"comment": artifact.review_comment})
    _audit(revision, "artifact.edited", actor, {"revision_of": str(artifact.pk), "revision": revision.revision, "before": artifact.text, "after": text})
    _screen_on_commit(revision)
    return revision


@transaction.atomic
def artifact_publish(*, artifact: Artifact, actor: Actor) -> Artifact:
    """Mark an approved artifact published. Blocked, unreviewed-flagged, rejected and
    still-screening artifacts are refused."""
    artifact = _lock_artifact(artifact)
    _require_status(artifact, (ArtifactStatus.APPROVED,), "publish")
    artifact.status, artifact.published_at = ArtifactStatus.PUBLISHED, timezone.now()
    artifact.save(update_fields=["status", "published_at"])
    item = feed_append(artifact=artifact)
    _audit(artifact, "artifact.published", actor, {"feed_position": item.position})
    webhook_event_emit(workspace_id=artifact.workspace_id, event="artifact.published",
                       data={"artifact": str(artifact.pk), "job": str(artifact.job_id), "kind": artifact.kind,
                             "text": artifact.text, "data": artifact.data, "feed_position": item.position})
    return artifact
