"""The workspace safety policy, and screening of job inputs.

Checks live in `safety/checks/`, the pure `screen()` in `safety/screening.py`; what
screening does to an artifact (its states, review, publication) lives with the artifact
in `jobs/services/artifacts.py`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from pressroom.accounts.models import Scope, Workspace
from pressroom.audit.services import Actor, audit_record
from pressroom.core.errors import InputInvalid
from pressroom.core.queries import related_objects_known
from pressroom.plugins import UseCase
from pressroom.safety.checks.base import Subject
from pressroom.safety.models import SafetyPolicy, SafetyVerdict
from pressroom.safety.screening import Screening, screen

if TYPE_CHECKING:
    from pressroom.accounts.access import Access
    from pressroom.jobs.models import Job

logger = logging.getLogger(__name__)
_POLICY_RELATION = Workspace.safety_policy.related

POLICY_FIELDS = (
    "auto_approve", "toxicity_flag_thresholds", "toxicity_block_thresholds", "pii_actions", "banned_terms",
    "competitor_names", "required_disclaimers", "max_chars", "nsfw_flag_threshold", "nsfw_block_threshold",
    "harm_flag_thresholds", "harm_block_thresholds", "banned_topics", "topic_threshold",
    "quality_enabled", "quality_disabled_checks", "quality_fact_types", "quality_max_word_run",
    "quality_max_sentence_repeats", "quality_min_words_for_punctuation", "quality_extra_hashtags_allowed",
    "quality_language",
)


THRESHOLD_FIELDS = ("toxicity_flag_thresholds", "toxicity_block_thresholds", "harm_flag_thresholds", "harm_block_thresholds")


class InputBlocked(InputInvalid):
    code = "input_blocked"


def safety_policy_get(*, workspace: Workspace | int) -> SafetyPolicy:
    """The workspace's policy (made with the defaults on first use). A workspace read with
    `select_related("safety_policy")` (an API key's) answers without a query; an unsaved
    policy pointing at it (the admin's add form) is not its policy."""
    if isinstance(workspace, Workspace) and _POLICY_RELATION.is_cached(workspace):
        policy = _POLICY_RELATION.get_cached_value(workspace)
        if policy is not None and policy.pk is not None:
            return policy
    workspace_id = workspace.pk if isinstance(workspace, Workspace) else workspace
    policy, _ = SafetyPolicy.objects.get_or_create(workspace_id=workspace_id)
    return policy


@transaction.atomic
def safety_policy_update(*, access: Access, **changes: Any) -> SafetyPolicy:
    """Change a workspace's policy (admins, or a key with policy:manage); the version goes up
    and the change is audited with the values before and after."""
    access.require(Scope.POLICY_MANAGE)
    workspace = access.workspace
    unknown = sorted(set(changes) - set(POLICY_FIELDS))
    if unknown:
        raise InputInvalid("Unknown policy fields.", {name: ["Not a safety policy setting."] for name in unknown})
    policy = SafetyPolicy.objects.select_for_update().get(pk=safety_policy_get(workspace=workspace).pk)
    changes = merge_thresholds(policy, changes)
    changes = {name: value for name, value in changes.items() if getattr(policy, name) != value}
    if not changes:
        return policy  # nothing changed: no new version, nothing to audit
    before = {name: getattr(policy, name) for name in changes}
    for name, value in changes.items():
        setattr(policy, name, value)
    policy.version += 1
    try:
        policy.full_clean()
    except ValidationError as error:
        raise InputInvalid("The safety policy is invalid.", error.message_dict) from error
    policy.save()
    if isinstance(workspace, Workspace):
        _POLICY_RELATION.set_cached_value(workspace, policy)  # what this request reads from here on
    audit_record(
        workspace_id=workspace.pk, action="workspace.policy_changed", object_type="safety_policy",
        object_id=policy.pk, actor=access.actor, data={"version": policy.version, "before": before, "after": changes},
    )
    return policy


def merge_thresholds(policy: SafetyPolicy, changes: dict[str, Any]) -> dict[str, Any]:
    """A thresholds mapping that names some categories changes those and keeps the others
    (so setting one category never switches the rest off)."""
    merged = dict(changes)
    for name in THRESHOLD_FIELDS:
        if isinstance(changes.get(name), dict):
            merged[name] = {**getattr(policy, name), **changes[name]}
    return merged


# -- input screening -------------------------------------------------------------
def _input_subjects(value: Any, path: str, use_case: str) -> list[Subject]:
    if isinstance(value, str):
        return [Subject(text=value, use_case=use_case, label=f"input.{path}")] if value.strip() else []
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    return [s for key, child in children for s in _input_subjects(child, f"{path}.{key}" if path else str(key), use_case)]


@dataclass
class InputScreening:
    screenings: list[Screening] = field(default_factory=list)
    policy: SafetyPolicy | None = None

    @property
    def decision(self) -> str:
        from pressroom.safety.checks.base import worst_decision

        return worst_decision([s.decision for s in self.screenings])

    def save_for(self, job: "Job") -> list[SafetyVerdict]:
        """Store the verdicts as the job's; `job.input_verdicts.all()` then reads them
        without a query (the response shows them)."""
        verdicts = SafetyVerdict.objects.bulk_create(
            verdict_from_result(result, self.policy, workspace_id=job.workspace_id, job=job)
            for screening in self.screenings for result in screening.results
        )
        related_objects_known(job, "input_verdicts", verdicts)
        return verdicts


def verdict_from_result(result, policy: SafetyPolicy | None, **subject) -> SafetyVerdict:
    data = result.as_dict()
    return SafetyVerdict(
        check_name=result.check, decision=result.decision, scores=data["scores"], thresholds=data["thresholds"],
        evidence=data["evidence"], scored_by=result.scored_by, error=result.error, reason=result.reason,
        policy_version=policy.version if policy else None, **subject,
    )


SEMANTIC_CHECKS = ("harm", "topics")


def request_checks() -> list:
    """The checks job_create runs itself; with SEMANTIC_INPUT_SCREENING = "worker" the
    semantic ones are left to the worker's screening (which runs every check)."""
    from pressroom.conf import pressroom_settings
    from pressroom.safety.registry import all_checks

    checks = all_checks()
    if pressroom_settings.SEMANTIC_INPUT_SCREENING == "worker":
        return [check for check in checks if check.name not in SEMANTIC_CHECKS]
    return checks


def request_screening_warm_up() -> None:
    """Load what screens job inputs in the request (the sentence encoder, the harm probe it
    trains, the toxicity scorer) now: a fresh web process otherwise spends its first job
    submission's seconds on it. Web workers call it before they accept requests."""
    subject = Subject(text="Warm up the screening models before the first request.", use_case="warm-up",
                      label="input.warm_up")
    for screening in screen([subject], SafetyPolicy(), request_checks()):
        for result in screening.results:
            if result.error:
                logger.warning("Screening warm-up: %s could not run (%s)", result.check, result.error)


def job_input_screen(*, workspace: Workspace, use_case: UseCase, validated_input: dict, actor: Actor) -> InputScreening:
    """Screen every text field of a job's input before any model time is spent.
    A blocked field refuses the job with the rule and the reason; the refusal is audited."""
    subjects = _input_subjects(validated_input, "", use_case.key)
    policy = safety_policy_get(workspace=workspace)
    screening = InputScreening(screen(subjects, policy, request_checks()) if subjects else [], policy)
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
                actor=actor, data={"use_case": use_case.key, "reasons": errors, "policy_version": policy.version},
            )
        raise InputBlocked("The request was blocked by the safety policy.", errors)
    return screening


def bulk_input_screen(*, workspace: Workspace, use_case: UseCase, inputs: list[dict]) -> list[InputScreening]:
    """Screen many job inputs (a campaign's rows) in one batch with the request-time checks
    that stay cheap at ten thousand rows: the semantic ones are left to the worker, which
    screens every input with every check before generation. One InputScreening per input."""
    policy = safety_policy_get(workspace=workspace)
    per_input = [_input_subjects(data, "", use_case.key) for data in inputs]
    checks = [check for check in request_checks() if check.name not in SEMANTIC_CHECKS]
    # Catalog rows repeat values ("organic cotton", "XS-XXL"): each distinct field text is
    # screened once (a subject is its text, field label and use case, so the result is the same).
    distinct = list(dict.fromkeys(subject for subjects in per_input for subject in subjects))
    by_subject = dict(zip(distinct, screen(distinct, policy, checks) if distinct else []))
    return [InputScreening([by_subject[subject] for subject in subjects], policy) for subjects in per_input]


def jobs_input_rescreen(*, jobs: list["Job"]) -> dict[Any, str]:
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
        policy = safety_policy_get(workspace=workspace_id)
        screenings = screen([subject for _, subject in pairs], policy)
        SafetyVerdict.objects.bulk_create(
            verdict_from_result(result, policy, workspace_id=workspace_id, job=job)
            for (job, _), sc in zip(pairs, screenings) for result in sc.results
        )
        for (job, subject), sc in zip(pairs, screenings):
            if sc.decision == "block" and job.pk not in blocked:
                field_name = subject.label.removeprefix("input.")
                blocked[job.pk] = f"Input blocked ({field_name}): " + "; ".join(sc.reasons)
    return blocked


def quality_problems(*, text: str, policy: SafetyPolicy, use_case: str, brief: Any = None,
                     data: dict | None = None) -> list[str]:
    """The reasons the quality stage would flag this text, without storing anything: a use
    case asks it of a fresh variant and regenerates it (within a budget) before the
    artifact is written and screened for real."""
    from pressroom.safety.registry import stage_checks

    subject = Subject(text=text, label="artifact", use_case=use_case, data=data or {}, brief=brief)
    results = screen([subject], policy, checks=stage_checks("quality"))[0].results
    return [result.reason or result.check for result in results if result.decision != "pass"]
