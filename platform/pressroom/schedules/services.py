"""Writes for recurring campaigns. A CampaignSchedule and the django-celery-beat
PeriodicTask that runs it are created, changed and deleted together, in one transaction,
so celery beat's database scheduler always runs exactly the schedules that exist.

When its time comes, beat sends `pressroom.schedules.run_campaign_schedule` with the schedule's id; the
worker calls `campaign_schedule_run`, which fills the template's placeholders in the
workspace's time zone and creates a campaign through `campaign_create`, with the schedule
as the audit actor. A run that cannot make a campaign (a quota, a use case turned off, a
row the schema refuses) is audited with the reason; nothing else happens.
"""
from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_celery_beat import validators as cron_validators
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from pressroom.accounts.access import Access
from pressroom.accounts.models import Scope, Workspace
from pressroom.audit.services import Actor, audit_record
from pressroom.campaigns.models import Campaign, CampaignSource
from pressroom.campaigns.rows import CampaignRowsInvalid, RowError, check_inline_rows
from pressroom.core.errors import InputInvalid, PressroomError
from pressroom.jobs.validation import job_input_validate, use_case_get
from pressroom.plugins.selectors import use_case_check_offered
from pressroom.schedules.models import CRON_FIELDS, CampaignSchedule

logger = logging.getLogger(__name__)

RUN_TASK = "pressroom.schedules.run_campaign_schedule"
RUN_QUEUE = "sweeper"
CRON_VALIDATORS = {
    "minute": cron_validators.minute_validator,
    "hour": cron_validators.hour_validator,
    "day_of_week": cron_validators.day_of_week_validator,
    "day_of_month": cron_validators.day_of_month_validator,
    "month_of_year": cron_validators.month_of_year_validator,
}
CRON_DEFAULTS = {"minute": "0", "hour": "9", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"}
EDITABLE = ("name", "use_case", "input_rows", *CRON_FIELDS, "enabled")
# Beat may deliver one tick twice (two beat processes, a redelivered message): a schedule
# runs at most once in this window, which is shorter than cron's smallest step (a minute).
RUN_DEDUP_SECONDS = 50

PLACEHOLDER = re.compile(r"\{(date|weekday|month)\}")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


# -- the template ----------------------------------------------------------------------
def placeholder_values(*, workspace: Workspace, at: datetime) -> dict[str, str]:
    """{date}, {weekday} and {month} as the workspace's wall clock reads them at `at`."""
    local = at.astimezone(ZoneInfo(workspace.time_zone))
    return {"date": local.date().isoformat(), "weekday": WEEKDAYS[local.weekday()], "month": MONTHS[local.month - 1]}


def _fill(value: Any, values: dict[str, str]) -> Any:
    # Only the three known names: other braces in marketing copy stay as they are.
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda match: values[match.group(1)], value)
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, values) for key, item in value.items()}
    return value


def campaign_schedule_rows(*, schedule: CampaignSchedule, at: datetime) -> list[dict[str, Any]]:
    """The rows a run at `at` submits: the template with its placeholders filled in."""
    values = placeholder_values(workspace=schedule.workspace, at=at)
    return [_fill(row, values) for row in schedule.input_rows]


def _check_template(workspace: Workspace, use_case_key: Any, input_rows: Any) -> str:
    """The use case is offered here and every row, filled in as a run would fill it now,
    is valid for its input schema; otherwise a row-numbered report (rows count from 1)."""
    use_case = use_case_check_offered(workspace=workspace, use_case=use_case_get(use_case_key))
    rows = check_inline_rows(input_rows)
    values = placeholder_values(workspace=workspace, at=timezone.now())
    errors: list[RowError] = []
    for number, row in enumerate(rows, start=1):
        try:
            job_input_validate(use_case=use_case, raw_input=_fill(row, values))
        except InputInvalid as error:
            errors.extend(RowError(number, field, message)
                          for field, messages in (error.field_errors or {"input": [error.message]}).items()
                          for message in messages)
    if errors:
        raise CampaignRowsInvalid(f"{len({e.row for e in errors})} of {len(rows)} template rows are invalid.", errors)
    return use_case.key


def _check_cron(fields: dict[str, Any]) -> dict[str, str]:
    """django-celery-beat's own validators, so beat never holds a schedule it cannot parse."""
    errors: dict[str, list[str]] = {}
    for name, validate in CRON_VALIDATORS.items():
        value = fields[name]
        if not isinstance(value, str) or not value.strip():
            errors[name] = ["A cron field such as *, 0, */15, 1-5 or mon,fri."]
            continue
        try:
            validate(value.strip())
        except (ValidationError, ValueError) as error:
            errors[name] = list(getattr(error, "messages", [str(error)]))
    if errors:
        raise InputInvalid("Invalid cron schedule.", errors)
    return {name: fields[name].strip() for name in CRON_FIELDS}


def _check_name(workspace: Workspace, name: Any, exclude: Any = None) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
        raise InputInvalid("A schedule needs a name.", {"name": ["Text of 1 to 200 characters."]})
    name = name.strip()
    if CampaignSchedule.objects.filter(workspace=workspace, name=name).exclude(pk=exclude).exists():
        raise InputInvalid("Name already in use.", {"name": [f"This workspace already has a schedule named {name!r}."]})
    return name


# -- the PeriodicTask beside it -----------------------------------------------------------
def _crontab(schedule: CampaignSchedule) -> CrontabSchedule:
    fields = {name: getattr(schedule, name) for name in CRON_FIELDS}
    existing = CrontabSchedule.objects.filter(**fields, timezone=schedule.workspace.time_zone).first()
    return existing or CrontabSchedule.objects.create(**fields, timezone=schedule.workspace.time_zone)


def _drop_if_unused(crontab_id: int | None) -> None:
    if crontab_id and not PeriodicTask.objects.filter(crontab_id=crontab_id).exists():
        CrontabSchedule.objects.filter(pk=crontab_id).delete()


def _sync_periodic_task(schedule: CampaignSchedule, task: PeriodicTask) -> PeriodicTask:
    """Point the task at the schedule's crontab in its workspace's zone. save() (never
    update()) so django-celery-beat notes the change and beat reloads its schedule."""
    previous = task.crontab_id
    task.task, task.queue = RUN_TASK, RUN_QUEUE
    task.kwargs = json.dumps({"schedule_id": str(schedule.pk)})
    task.crontab, task.interval, task.solar, task.clocked = _crontab(schedule), None, None, None
    task.enabled = schedule.enabled
    task.description = (f"Recurring campaign {schedule.name!r} of workspace {schedule.workspace.slug}. "
                        "Managed by Pressroom: change it under Schedules, not here.")
    task.save()
    if previous != task.crontab_id:
        _drop_if_unused(previous)
    return task


def _audit(schedule: CampaignSchedule, action: str, actor: Actor, data: dict[str, Any] | None = None) -> None:
    audit_record(workspace_id=schedule.workspace_id, action=action, object_type="campaign_schedule", object_id=schedule.pk,
                 actor=actor, data=data)


def _snapshot(schedule: CampaignSchedule) -> dict[str, Any]:
    return {"name": schedule.name, "use_case": schedule.use_case, "input_rows": schedule.input_rows, "cron": schedule.cron,
            "time_zone": schedule.workspace.time_zone, "enabled": schedule.enabled}


# -- create, change, delete -------------------------------------------------------------
def _lock_workspace(access: Access) -> Workspace:
    """Its time zone as stored, held while a schedule's crontab is written (a concurrent
    move to another zone waits, then moves this schedule too)."""
    return Workspace.objects.select_for_update().get(pk=access.workspace.pk)


@transaction.atomic
def campaign_schedule_create(
    *,
    access: Access,
    name: str,
    use_case: str,
    input_rows: list[dict[str, Any]],
    minute: str = CRON_DEFAULTS["minute"],
    hour: str = CRON_DEFAULTS["hour"],
    day_of_week: str = CRON_DEFAULTS["day_of_week"],
    day_of_month: str = CRON_DEFAULTS["day_of_month"],
    month_of_year: str = CRON_DEFAULTS["month_of_year"],
    enabled: bool = True,
) -> CampaignSchedule:
    """A recurring campaign and its PeriodicTask, in the workspace's time zone; audited."""
    access.require(Scope.JOBS_WRITE)
    workspace = _lock_workspace(access)
    cron = _check_cron({"minute": minute, "hour": hour, "day_of_week": day_of_week, "day_of_month": day_of_month,
                        "month_of_year": month_of_year})
    schedule = CampaignSchedule(workspace=workspace, name=_check_name(workspace, name),
                                use_case=_check_template(workspace, use_case, input_rows), input_rows=input_rows,
                                enabled=bool(enabled), created_by=access.user, **cron)
    schedule.periodic_task = _sync_periodic_task(schedule, PeriodicTask(name=f"campaign-schedule:{schedule.pk}"))
    schedule.save()
    _audit(schedule, "campaign_schedule.created", access.actor, _snapshot(schedule))
    return schedule


@transaction.atomic
def campaign_schedule_update(*, schedule: CampaignSchedule, access: Access, **changes: Any) -> CampaignSchedule:
    """Change any of EDITABLE; the PeriodicTask follows. Audited with before and after."""
    access.require_object(schedule)
    access.require(Scope.JOBS_WRITE)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InputInvalid("Unknown fields.", {name: ["Not a schedule field."] for name in unknown})
    workspace = _lock_workspace(access)
    schedule = CampaignSchedule.objects.select_for_update().select_related("periodic_task").get(pk=schedule.pk)
    schedule.workspace = workspace
    before = _snapshot(schedule)
    cron = _check_cron({name: changes.get(name, getattr(schedule, name)) for name in CRON_FIELDS})
    if "name" in changes:
        schedule.name = _check_name(schedule.workspace, changes["name"], exclude=schedule.pk)
    if {"use_case", "input_rows"} & set(changes):
        schedule.use_case = _check_template(schedule.workspace, changes.get("use_case", schedule.use_case),
                                            changes.get("input_rows", schedule.input_rows))
        schedule.input_rows = changes.get("input_rows", schedule.input_rows)
    if "enabled" in changes:
        schedule.enabled = bool(changes["enabled"])
    for name, value in cron.items():
        setattr(schedule, name, value)
    after = _snapshot(schedule)
    if after == before:
        return schedule
    _sync_periodic_task(schedule, schedule.periodic_task)
    schedule.save()
    _audit(schedule, "campaign_schedule.updated", access.actor,
           {"before": {k: v for k, v in before.items() if after[k] != v}, "after": {k: v for k, v in after.items() if before[k] != v}})
    return schedule


@transaction.atomic
def campaign_schedule_delete(*, schedule: CampaignSchedule, access: Access) -> None:
    """The schedule and its PeriodicTask go; the campaigns it made stay."""
    access.require_object(schedule)
    access.require(Scope.JOBS_WRITE)
    schedule = CampaignSchedule.objects.select_for_update().select_related("workspace", "periodic_task").get(pk=schedule.pk)
    _audit(schedule, "campaign_schedule.deleted", access.actor, _snapshot(schedule))
    task, crontab_id = schedule.periodic_task, schedule.periodic_task.crontab_id
    schedule.delete()
    task.delete()
    _drop_if_unused(crontab_id)


def campaign_schedules_follow_time_zone(*, workspace: Workspace, **kwargs: Any) -> None:
    """The workspace moved to another zone: its schedules' crontabs move with it (a
    receiver of workspace_time_zone_changed, inside that transaction)."""
    for schedule in CampaignSchedule.objects.select_for_update().filter(workspace=workspace).select_related("periodic_task"):
        schedule.workspace = workspace
        _sync_periodic_task(schedule, schedule.periodic_task)


# -- a run ----------------------------------------------------------------------------------
def schedule_actor(schedule: CampaignSchedule) -> Actor:
    return Actor.schedule(f"campaign_schedule:{schedule.pk}", schedule.name)


def _claim(schedule_id: Any, now: datetime) -> CampaignSchedule | None:
    """The schedule, locked for this run; None when it is gone or disabled, when another
    delivery of this tick holds it (skip_locked) or ran it moments ago."""
    schedule = (CampaignSchedule.objects.select_for_update(skip_locked=True, of=("self",)).select_related("workspace")
                .filter(pk=schedule_id, enabled=True).first())
    if schedule is None or (schedule.last_run_at and schedule.last_run_at > now - timedelta(seconds=RUN_DEDUP_SECONDS)):
        return None
    return schedule


@transaction.atomic
def campaign_schedule_run(*, schedule_id: Any, now: datetime | None = None) -> Campaign | None:
    """Beat's tick: create this schedule's campaign. Returns it, or None when there was
    nothing to run or the run failed (audited with the reason, the schedule as actor). The
    campaign, the schedule's last run and its audit event commit together."""
    now = now or timezone.now()
    schedule = _claim(schedule_id, now)
    if schedule is None:
        logger.info("Campaign schedule %s: nothing to run (deleted, disabled, or this tick already ran)", schedule_id)
        return None
    actor = schedule_actor(schedule)
    values = placeholder_values(workspace=schedule.workspace, at=now)
    try:
        with transaction.atomic():  # a savepoint: a refused campaign leaves nothing behind
            campaign = _create_campaign(schedule, Access.system(schedule.workspace, actor=actor), now, values)
    except PressroomError as error:
        return _record_run(schedule, now, actor, "campaign_schedule.run_failed", _failure_data(error))
    except Exception as error:  # noqa: BLE001 - a run never takes the worker down; the trail says it failed
        logger.exception("Campaign schedule %s failed", schedule.pk)
        return _record_run(schedule, now, actor, "campaign_schedule.run_failed",
                           {"reason": f"Internal error ({type(error).__name__}); see the worker's log.", "code": "error"})
    _record_run(schedule, now, actor, "campaign_schedule.ran",
                {"campaign": str(campaign.pk), "jobs": campaign.total_jobs, "placeholders": values}, campaign)
    return campaign


def _create_campaign(schedule: CampaignSchedule, access: Access, now: datetime, values: dict[str, str]) -> Campaign:
    from pressroom.campaigns.services import campaign_create

    return campaign_create(access=access, use_case_key=schedule.use_case, rows=campaign_schedule_rows(schedule=schedule, at=now),
                           name=f"{schedule.name[:180]} · {values['date']}", source=CampaignSource.SCHEDULE,
                           origin={"schedule": str(schedule.pk)})


def _failure_data(error: PressroomError) -> dict[str, Any]:
    data: dict[str, Any] = {"reason": str(error)[:2000], "code": error.code}
    row_errors = getattr(error, "row_errors", None)
    if row_errors:
        data["rows"] = [e.as_dict() for e in row_errors[:100]]
    return data


def _record_run(schedule: CampaignSchedule, now: datetime, actor: Actor, action: str, data: dict[str, Any],
                campaign: Campaign | None = None) -> None:
    schedule.last_run_at, schedule.last_error = now, "" if campaign else data["reason"]
    if campaign is not None:
        schedule.last_campaign = campaign
    schedule.save(update_fields=["last_run_at", "last_error", "last_campaign"])  # a run is not an edit: updated_at stays
    _audit(schedule, action, actor, data)
