"""The approved artifact card: "Publish at" in the workspace's time zone, and Cancel."""
from datetime import datetime, timezone as dt_timezone

import pytest
from django.urls import reverse

from pressroom.accounts.models import Role
from pressroom.jobs.models import Artifact
from tests.factories import member

pytestmark = pytest.mark.django_db


def url(name: str, workspace, *args) -> str:
    return reverse(f"dashboard:{name}", args=[workspace.slug, *args])


def test_a_reviewer_schedules_in_the_workspace_time_zone_and_cancels(client, workspace, reviewer, make_approved):
    workspace.time_zone = "America/New_York"
    workspace.save(update_fields=["time_zone"])
    (artifact,) = make_approved()
    client.force_login(reviewer)
    page = client.get(url("artifact", workspace, artifact.pk)).content.decode()
    assert 'name="publish_at"' in page and "America/New_York" in page

    response = client.post(url("artifact_schedule", workspace, artifact.pk), {"publish_at": "2099-07-01T09:30"}, follow=True)
    assert "Scheduled to publish at 2099-07-01 09:30 (America/New_York)" in response.content.decode()
    stored = Artifact.objects.get(pk=artifact.pk)
    assert stored.status == "scheduled"
    assert stored.publish_at == datetime(2099, 7, 1, 13, 30, tzinfo=dt_timezone.utc)  # 09:30 EDT
    page = client.get(url("artifact", workspace, artifact.pk)).content.decode()
    assert "Publishes at" in page and "2099-07-01 09:30" in page and 'data-action="unschedule"' in page

    client.post(url("artifact_unschedule", workspace, artifact.pk))
    assert Artifact.objects.get(pk=artifact.pk).status == "approved"


@pytest.mark.parametrize("value, message", [("2001-01-01T09:00", "has passed"), ("soon", "Nothing was scheduled")])
def test_past_and_unreadable_times_are_refused_on_the_page(client, workspace, reviewer, make_approved, value, message):
    (artifact,) = make_approved()
    client.force_login(reviewer)
    response = client.post(url("artifact_schedule", workspace, artifact.pk), {"publish_at": value}, follow=True)
    assert message in response.content.decode()
    assert Artifact.objects.get(pk=artifact.pk).status == "approved"


def test_an_editor_cannot_schedule(client, workspace, make_approved):
    (artifact,) = make_approved()
    client.force_login(member(workspace, Role.EDITOR, "ed"))
    assert client.post(url("artifact_schedule", workspace, artifact.pk), {"publish_at": "2099-07-01T09:30"}).status_code == 403
    assert Artifact.objects.get(pk=artifact.pk).status == "approved"


def test_the_admin_lists_scheduled_artifacts_and_cancels_them(admin_client, workspace, make_approved, reviewer_access):
    from datetime import timedelta

    from django.utils import timezone

    from pressroom.jobs.services import artifact_schedule_publish

    scheduled, approved = make_approved(2)
    artifact_schedule_publish(artifact=scheduled, access=reviewer_access, publish_at=timezone.now() + timedelta(days=1))
    listing = admin_client.get(reverse("admin:jobs_artifact_changelist"), {"status__exact": "scheduled"}).content.decode()
    assert str(scheduled.pk) in listing and str(approved.pk) not in listing
    admin_client.post(reverse("admin:jobs_artifact_changelist"), {"action": "unschedule", "_selected_action": [scheduled.pk]})
    assert Artifact.objects.get(pk=scheduled.pk).status == "approved"
