"""The admin creates, changes and deletes recurring campaigns through the services;
django-celery-beat's own admin stays available beside it."""
import json

import pytest
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from pressroom.audit.models import AuditEvent
from pressroom.schedules.models import CampaignSchedule
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db

FORM = {"name": "Monthly newsletter", "use_case": "core.text", "input_rows": json.dumps([{"prompt": "News for {month}"}]),
        "minute": "0", "hour": "10", "day_of_week": "*", "day_of_month": "1", "month_of_year": "*", "enabled": "on"}


def test_the_admin_goes_through_the_services(admin_client, workspace):
    response = admin_client.post(reverse("admin:schedules_campaignschedule_add"), {**FORM, "workspace": workspace.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    schedule = CampaignSchedule.objects.get()
    assert schedule.periodic_task.crontab.day_of_month == "1"
    assert AuditEvent.objects.filter(action="campaign_schedule.created", object_id=str(schedule.pk), actor_type="user").exists()

    change = reverse("admin:schedules_campaignschedule_change", args=[schedule.pk])
    assert admin_client.post(change, {**FORM, "hour": "11"}).status_code == 302
    assert PeriodicTask.objects.get(pk=schedule.periodic_task_id).crontab.hour == "11"

    refused = admin_client.post(change, {**FORM, "hour": "99"}, follow=True)
    assert "Nothing was saved: Invalid cron schedule" in refused.content.decode()
    assert PeriodicTask.objects.get(pk=schedule.periodic_task_id).crontab.hour == "11"

    listing = admin_client.get(reverse("admin:schedules_campaignschedule_changelist")).content.decode()
    assert "Monthly newsletter" in listing and "0 11 1 * *" in listing
    assert admin_client.get(reverse("admin:django_celery_beat_periodictask_changelist")).status_code == 200

    admin_client.post(reverse("admin:schedules_campaignschedule_delete", args=[schedule.pk]), {"post": "yes"})
    assert not CampaignSchedule.objects.exists() and not PeriodicTask.objects.filter(pk=schedule.periodic_task_id).exists()


def test_staff_see_only_their_workspaces_schedules(client, workspace, reviewer):
    from pressroom.accounts.access import Access
    from pressroom.schedules.services import campaign_schedule_create

    other = WorkspaceFactory()
    theirs = campaign_schedule_create(access=Access.system(other), name="Theirs", use_case="core.text", input_rows=[{"prompt": "x"}])
    mine = campaign_schedule_create(access=Access.system(workspace), name="Mine", use_case="core.text", input_rows=[{"prompt": "x"}])
    reviewer.is_staff = True
    reviewer.save()
    from django.contrib.auth.models import Permission

    reviewer.user_permissions.add(*Permission.objects.filter(codename__endswith="campaignschedule"))
    client.force_login(reviewer)
    listing = client.get(reverse("admin:schedules_campaignschedule_changelist")).content.decode()
    assert mine.name in listing and theirs.name not in listing
