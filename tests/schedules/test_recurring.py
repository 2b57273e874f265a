"""Recurring campaigns: a schedule and its django-celery-beat PeriodicTask move together;
a run fills the template in the workspace's time zone and creates a campaign with the
schedule as actor; a run that cannot is audited with the reason."""
import json
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from pressroom.accounts.access import Access
from pressroom.accounts.models import Role
from pressroom.accounts.services import workspace_update
from pressroom.audit.models import AuditEvent
from pressroom.campaigns.models import Campaign
from pressroom.core.errors import InputInvalid, NotAllowed, UnknownUseCase
from pressroom.jobs.models import Job
from pressroom.schedules.models import CampaignSchedule
from pressroom.schedules.services import (
    RUN_TASK,
    campaign_schedule_create,
    campaign_schedule_delete,
    campaign_schedule_run,
    campaign_schedule_update,
)
from tests.factories import access_of, member

pytestmark = pytest.mark.django_db

TEMPLATE = [{"prompt": "A {weekday} post for {month}, dated {date}. Keep {braces} as they are."},
            {"prompt": "Weekly digest {date}", "variants": 1}]


@pytest.fixture
def editor_access(workspace):
    return access_of(member(workspace, Role.EDITOR, "eve"), workspace)


def create(access, **fields):
    return campaign_schedule_create(access=access, **{"name": "Weekly posts", "use_case": "core.text", "input_rows": TEMPLATE,
                                                      "minute": "30", "hour": "9", "day_of_week": "mon", **fields})


def events(schedule, action):
    return AuditEvent.objects.filter(object_type="campaign_schedule", object_id=str(schedule.pk), action=action)


def test_a_schedule_gets_a_periodic_task_with_its_crontab_in_the_workspace_time_zone(workspace, editor_access):
    workspace_update(access=Access.system(workspace), time_zone="Europe/Paris")
    schedule = create(editor_access)
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    assert (task.task, task.queue, task.enabled, json.loads(task.kwargs)) == (RUN_TASK, "sweeper", True, {"schedule_id": str(schedule.pk)})
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week, crontab.day_of_month, crontab.month_of_year) == ("30", "9", "mon", "*", "*")
    assert str(crontab.timezone) == "Europe/Paris"
    assert task.interval is None and task.clocked is None
    event = events(schedule, "campaign_schedule.created").get()
    assert event.actor_type == "user" and event.data["cron"] == "30 9 * * mon" and event.data["time_zone"] == "Europe/Paris"


@pytest.mark.parametrize("field, value", [("minute", "61"), ("hour", "25"), ("day_of_week", "funday"),
                                          ("day_of_month", "0"), ("month_of_year", "13"), ("minute", ""), ("hour", 9)])
def test_cron_fields_are_checked_by_celery_beats_validators(editor_access, field, value):
    with pytest.raises(InputInvalid) as error:
        create(editor_access, **{field: value})
    assert field in error.value.field_errors
    assert not CampaignSchedule.objects.exists() and not PeriodicTask.objects.filter(task=RUN_TASK).exists()


def test_the_template_is_validated_row_by_row_against_the_use_case(editor_access):
    rows = [{"prompt": "fine {date}"}, {"prompt": ""}, {"prompt": "ok", "temperature": "hot"}]
    with pytest.raises(InputInvalid) as error:
        create(editor_access, input_rows=rows)
    assert set(error.value.field_errors) == {"rows.2.prompt", "rows.3.temperature"}
    assert [e.row for e in error.value.row_errors] == [2, 3]
    with pytest.raises(UnknownUseCase):
        create(editor_access, use_case="nope.nothing")
    with pytest.raises(InputInvalid):
        create(editor_access, input_rows=[])
    with pytest.raises(InputInvalid):
        create(editor_access, input_rows="not a list")
    assert not CampaignSchedule.objects.exists()


def test_changing_it_needs_jobs_write(workspace):
    viewer = access_of(member(workspace, Role.VIEWER, "vic"), workspace)
    with pytest.raises(NotAllowed):
        create(viewer)


def test_updates_move_the_periodic_task_and_drop_unused_crontabs(workspace, editor_access):
    schedule = create(editor_access)
    old_crontab = schedule.periodic_task.crontab_id
    updated = campaign_schedule_update(schedule=schedule, access=editor_access, hour="7", enabled=False, name="Monday posts")
    task = PeriodicTask.objects.get(pk=updated.periodic_task_id)
    assert (task.crontab.hour, task.enabled) == ("7", False)
    assert not CrontabSchedule.objects.filter(pk=old_crontab).exists()
    event = events(schedule, "campaign_schedule.updated").get()
    assert event.data == {"before": {"name": "Weekly posts", "cron": "30 9 * * mon", "enabled": True},
                          "after": {"name": "Monday posts", "cron": "30 7 * * mon", "enabled": False}}
    campaign_schedule_update(schedule=schedule, access=editor_access, hour="7")  # no change, no event
    assert events(schedule, "campaign_schedule.updated").count() == 1
    with pytest.raises(InputInvalid):
        campaign_schedule_update(schedule=schedule, access=editor_access, hour="7", periodic_task=None)


def test_the_crontab_follows_the_workspace_to_another_time_zone(workspace, editor_access):
    schedule = create(editor_access)
    assert str(schedule.periodic_task.crontab.timezone) == "UTC"
    workspace_update(access=Access.system(workspace), time_zone="America/Chicago")
    assert str(PeriodicTask.objects.get(pk=schedule.periodic_task_id).crontab.timezone) == "America/Chicago"


def test_deleting_removes_its_periodic_task_and_keeps_its_campaigns(workspace, editor_access):
    schedule = create(editor_access)
    campaign = campaign_schedule_run(schedule_id=schedule.pk)
    task_id = schedule.periodic_task_id
    campaign_schedule_delete(schedule=schedule, access=editor_access)
    assert not PeriodicTask.objects.filter(pk=task_id).exists() and not CampaignSchedule.objects.exists()
    assert Campaign.objects.filter(pk=campaign.pk).exists()
    assert events(schedule, "campaign_schedule.deleted").get().actor_type == "user"


def test_a_run_fills_placeholders_in_the_workspace_time_zone_and_the_schedule_is_the_actor(workspace, editor_access):
    workspace_update(access=Access.system(workspace), time_zone="Pacific/Auckland")
    schedule = create(editor_access)
    # Sunday 20:00 UTC is already Monday 09:00 in Auckland (UTC+13 in March).
    at = datetime(2026, 3, 1, 20, 0, tzinfo=dt_timezone.utc)
    campaign = campaign_schedule_run(schedule_id=schedule.pk, now=at)
    assert (campaign.source, campaign.origin, campaign.total_jobs) == ("schedule", {"schedule": str(schedule.pk)}, 2)
    assert campaign.name == "Weekly posts · 2026-03-02"
    prompts = [job.input["prompt"] for job in Job.objects.filter(campaign=campaign).order_by("campaign_row")]
    assert prompts == ["A Monday post for March, dated 2026-03-02. Keep {braces} as they are.", "Weekly digest 2026-03-02"]

    created = AuditEvent.objects.filter(object_type="campaign", object_id=str(campaign.pk), action="campaign.created").get()
    assert (created.actor_type, created.actor_id, created.actor_label) == ("schedule", f"campaign_schedule:{schedule.pk}", "Weekly posts")
    job_events = AuditEvent.objects.filter(action="job.created", object_id__in=[str(j.pk) for j in Job.objects.filter(campaign=campaign)])
    assert {e.actor_type for e in job_events} == {"schedule"}
    ran = events(schedule, "campaign_schedule.ran").get()
    assert ran.actor_type == "schedule" and ran.data["campaign"] == str(campaign.pk)
    assert ran.data["placeholders"] == {"date": "2026-03-02", "weekday": "Monday", "month": "March"}
    schedule.refresh_from_db()
    assert (schedule.last_run_at, schedule.last_campaign_id, schedule.last_error) == (at, campaign.pk, "")


def test_a_tick_delivered_twice_runs_once_and_a_disabled_schedule_not_at_all(editor_access):
    schedule = create(editor_access)
    at = datetime(2026, 3, 2, 9, 30, tzinfo=dt_timezone.utc)
    assert campaign_schedule_run(schedule_id=schedule.pk, now=at) is not None
    assert campaign_schedule_run(schedule_id=schedule.pk, now=at + timedelta(seconds=5)) is None
    assert campaign_schedule_run(schedule_id=schedule.pk, now=at + timedelta(days=7)) is not None
    campaign_schedule_update(schedule=schedule, access=editor_access, enabled=False)
    assert campaign_schedule_run(schedule_id=schedule.pk, now=at + timedelta(days=14)) is None
    assert Campaign.objects.count() == 2


def test_a_run_over_quota_is_audited_with_the_reason_and_creates_nothing(workspace, editor_access):
    from pressroom.usage.models import Quota
    from pressroom.usage.services import quota_set

    schedule = create(editor_access)
    quota_set(access=Access.system(workspace), **{Quota.field_name("jobs", "day"): 1})
    assert campaign_schedule_run(schedule_id=schedule.pk) is None
    assert not Campaign.objects.exists() and not Job.objects.exists()
    failed = events(schedule, "campaign_schedule.run_failed").get()
    assert failed.actor_type == "schedule" and failed.data["code"] == "quota_exceeded" and "limit" in failed.data["reason"]
    schedule.refresh_from_db()
    assert schedule.last_error == failed.data["reason"] and schedule.last_campaign is None


def test_a_run_of_a_use_case_turned_off_since_is_audited(workspace, editor_access):
    from pressroom.plugins.services import workspace_plugins_set

    rows = [{"topic": "Spring sale on {month} {date}", "platforms": ["linkedin"]}]
    schedule = create(editor_access, use_case="marketing.social_post", input_rows=rows)
    workspace_plugins_set(access=Access.system(workspace), enabled=["design", "recommendation"])
    assert campaign_schedule_run(schedule_id=schedule.pk) is None
    failed = events(schedule, "campaign_schedule.run_failed").get()
    assert failed.data["code"] == "use_case_not_offered"


def test_a_template_that_became_invalid_is_audited_row_by_row(editor_access):
    schedule = create(editor_access)
    # Written around the service, as an old row or a schema change would leave it.
    CampaignSchedule.objects.filter(pk=schedule.pk).update(input_rows=[{"prompt": "ok"}, {"prompt": ""}])
    assert campaign_schedule_run(schedule_id=schedule.pk) is None
    failed = events(schedule, "campaign_schedule.run_failed").get()
    assert [row["row"] for row in failed.data["rows"]] == [2]
