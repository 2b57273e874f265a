"""Schedules end to end: a real celery beat with django-celery-beat's database scheduler
and a real worker on the sweeper queue publish an artifact at its time and run a
recurring campaign on its cron, each audited with the schedule as actor."""
from datetime import timedelta

import pytest
from django.utils import timezone

from pressroom.accounts.access import Access
from pressroom.audit.models import AuditEvent
from pressroom.campaigns.models import Campaign
from pressroom.jobs.models import Artifact
from pressroom.jobs.services import artifact_schedule_publish
from pressroom.schedules.services import campaign_schedule_create
from pressroom_workers.testing import BeatProcess, WorkerProcess, wait_for
from tests.schedules.conftest import make_approved, make_screened, reviewer, reviewer_access  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.worker


def test_beat_publishes_at_the_time_and_runs_a_recurring_campaign(broker, transactional_db, tmp_path, workspace,
                                                                  make_approved, reviewer_access):  # noqa: F811
    schedule = campaign_schedule_create(access=Access.system(workspace), name="Every minute", use_case="core.text",
                                        input_rows=[{"prompt": "A tip for {weekday}"}], minute="*", hour="*")
    (artifact,) = make_approved()
    publish_at = timezone.now() + timedelta(seconds=3)
    artifact_schedule_publish(artifact=artifact, access=reviewer_access, publish_at=publish_at)
    worker = WorkerProcess("scheduled", tmp_path, queues="sweeper")
    beat = BeatProcess(tmp_path, PRESSROOM_PUBLISH_DUE_SECONDS="1")
    try:
        worker.start()
        beat.start()
        try:
            wait_for(lambda: Artifact.objects.get(pk=artifact.pk).status == "published", timeout=60, what="the scheduled publication")
            # A cron of every minute fires at the next minute boundary.
            wait_for(lambda: Campaign.objects.filter(origin__schedule=str(schedule.pk)).exists(), timeout=90,
                     what="the recurring campaign")
        except TimeoutError:
            raise AssertionError(f"beat:\n{beat.log()}\nworker:\n{worker.log()}") from None
    finally:
        beat.stop()
        worker.stop()
    published = Artifact.objects.get(pk=artifact.pk)
    assert published.published_at >= publish_at
    event = AuditEvent.objects.get(action="artifact.published", object_id=str(artifact.pk))
    assert (event.actor_type, event.actor_id) == ("schedule", f"publish_at:{artifact.pk}")
    campaign = Campaign.objects.get(origin__schedule=str(schedule.pk))
    assert campaign.source == "schedule" and campaign.total_jobs == 1
    ran = AuditEvent.objects.get(action="campaign_schedule.ran", object_id=str(schedule.pk))
    assert (ran.actor_type, ran.data["campaign"]) == ("schedule", str(campaign.pk))
