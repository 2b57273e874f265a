"""Publish at a time: an approved artifact waits in `scheduled` and the periodic publish
task publishes it through the same path as a person's publish, the schedule as actor."""
import threading
from datetime import datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from pressroom.accounts.access import Access
from pressroom.accounts.models import Role
from pressroom.audit.models import AuditEvent
from pressroom.core.errors import InputInvalid, InvalidTransition, NotAllowed
from pressroom.jobs.models import Artifact
from pressroom.jobs.services import (
    artifact_publish,
    artifact_reject,
    artifact_schedule_cancel,
    artifact_schedule_publish,
    artifacts_publish_due,
)
from pressroom.publishing.models import PublishedItem, WebhookDelivery
from pressroom.publishing.services import webhook_endpoint_create
from tests.factories import access_of, member
from tests.schedules.conftest import BANNED, CLEAN

pytestmark = pytest.mark.django_db(transaction=True)


def soon(minutes: int = 30) -> datetime:
    return timezone.now() + timedelta(minutes=minutes)


def make_due(*artifacts: Artifact) -> None:
    """Move their time into the past, as the clock would (the trigger lets a scheduled
    artifact's time change while it stays scheduled)."""
    Artifact.objects.filter(pk__in=[a.pk for a in artifacts]).update(publish_at=timezone.now() - timedelta(seconds=1))


def events(artifact: Artifact, action: str):
    return AuditEvent.objects.filter(object_type="artifact", object_id=str(artifact.pk), action=action)


def test_an_approved_artifact_is_scheduled_then_cancelled(make_approved, reviewer_access, reviewer):
    (artifact,) = make_approved()
    when = soon()
    scheduled = artifact_schedule_publish(artifact=artifact, access=reviewer_access, publish_at=when)
    assert (scheduled.status, scheduled.publish_at) == ("scheduled", when)
    event = events(artifact, "artifact.scheduled").get()
    assert (event.actor_type, event.user, event.data["publish_at"]) == ("user", reviewer, when.isoformat())

    make_due(artifact)  # cancelled at the last moment: the sweep must not publish it
    due_at = Artifact.objects.get(pk=artifact.pk).publish_at
    cancelled = artifact_schedule_cancel(artifact=artifact, access=reviewer_access)
    stored = Artifact.objects.get(pk=artifact.pk)
    assert (cancelled.status, stored.status, stored.publish_at) == ("approved", "approved", None)
    assert stored.reviewed_by == reviewer  # the approval stands
    assert events(artifact, "artifact.schedule_cancelled").get().data == {"publish_at": due_at.isoformat()}
    assert artifacts_publish_due() == 0 and Artifact.objects.get(pk=artifact.pk).status == "approved"


def test_a_scheduled_artifact_can_move_to_another_time(make_approved, reviewer_access):
    (artifact,) = make_approved()
    first, second = soon(10), soon(60)
    artifact_schedule_publish(artifact=artifact, access=reviewer_access, publish_at=first)
    artifact_schedule_publish(artifact=artifact, access=reviewer_access, publish_at=second)
    assert Artifact.objects.get(pk=artifact.pk).publish_at == second
    assert events(artifact, "artifact.scheduled").last().data == {"publish_at": second.isoformat(), "before": first.isoformat()}


@pytest.mark.parametrize("publish_at, message", [
    (lambda: timezone.now() - timedelta(minutes=1), "has passed"),
    (lambda: timezone.now(), "has passed"),
    (lambda: datetime(2099, 1, 1, 9, 0), "needs a time zone"),
    (lambda: "2099-01-01T09:00:00Z", "Give a time"),
])
def test_past_naive_and_malformed_times_are_refused(make_approved, reviewer_access, publish_at, message):
    (artifact,) = make_approved()
    with pytest.raises(InputInvalid, match=message) as error:
        artifact_schedule_publish(artifact=artifact, access=reviewer_access, publish_at=publish_at())
    assert "publish_at" in error.value.field_errors
    assert Artifact.objects.get(pk=artifact.pk).status == "approved"


def test_blocked_and_unapproved_artifacts_are_never_scheduled(make_screened, reviewer_access):
    clean, banned = make_screened(CLEAN, BANNED)
    assert (clean.status, banned.status) == ("passed", "blocked")
    with pytest.raises(InvalidTransition, match="blocked"):
        artifact_schedule_publish(artifact=banned, access=reviewer_access, publish_at=soon())
    with pytest.raises(InvalidTransition, match="it is passed"):
        artifact_schedule_publish(artifact=clean, access=reviewer_access, publish_at=soon())
    with pytest.raises(InvalidTransition, match="it is passed"):
        artifact_schedule_cancel(artifact=clean, access=reviewer_access)


def test_scheduling_needs_the_publish_permission(make_approved, workspace):
    (artifact,) = make_approved()
    editor = access_of(member(workspace, Role.EDITOR, "ed"), workspace)
    with pytest.raises(NotAllowed):
        artifact_schedule_publish(artifact=artifact, access=editor, publish_at=soon())


def test_the_database_keeps_scheduled_to_the_rules_of_approved(make_screened, make_approved, reviewer, reviewer_access):
    clean, banned = make_screened(CLEAN, BANNED)
    (approved,) = make_approved()
    refusals = [
        (banned, {"status": "scheduled", "publish_at": soon(), "reviewed_by": reviewer}, "only an approved artifact is scheduled"),
        (clean, {"status": "scheduled", "publish_at": soon()}, "only an approved artifact is scheduled"),
        (approved, {"status": "scheduled"}, "artifact_scheduled_has_time|with a time"),
        (approved, {"publish_at": soon()}, "change only with a transition"),
    ]
    for artifact, changes, message in refusals:
        with pytest.raises(IntegrityError, match=message), transaction.atomic():
            Artifact.objects.filter(pk=artifact.pk).update(**changes)
    artifact_schedule_publish(artifact=approved, access=reviewer_access, publish_at=soon())
    for changes, message in [
        ({"status": "approved"}, "only a scheduled artifact has a time"),
        ({"status": "approved", "publish_at": None, "review_comment": "changed"}, "keeps the review"),
        ({"publish_at": None}, "needs a publication time"),
    ]:
        with pytest.raises(IntegrityError, match=message), transaction.atomic():
            Artifact.objects.filter(pk=approved.pk).update(**changes)


def test_the_sweep_publishes_due_artifacts_like_a_person_with_the_schedule_as_actor(make_approved, reviewer_access, workspace, settings):
    settings.PRESSROOM = {**settings.PRESSROOM, "WEBHOOK_ALLOW_PRIVATE": True}
    webhook_endpoint_create(access=Access.system(workspace), url="http://127.0.0.1:9/hook", events=["artifact.published"])
    by_hand, due, later = make_approved(3)
    for artifact in (due, later):
        artifact_schedule_publish(artifact=artifact, access=reviewer_access, publish_at=soon())
    make_due(due)
    artifact_publish(artifact=by_hand, access=reviewer_access)

    assert artifacts_publish_due() == 1
    assert artifacts_publish_due() == 0  # nothing twice
    due.refresh_from_db()
    assert (due.status, Artifact.objects.get(pk=later.pk).status) == ("published", "scheduled")
    assert due.published_at >= due.publish_at
    assert PublishedItem.objects.get(artifact=due).position == PublishedItem.objects.get(artifact=by_hand).position + 1

    manual, scheduled = events(by_hand, "artifact.published").get(), events(due, "artifact.published").get()
    assert (manual.actor_type, scheduled.actor_type) == ("user", "schedule")
    assert scheduled.actor_id == f"publish_at:{due.pk}" and scheduled.user is None
    assert scheduled.data == {"feed_position": manual.data["feed_position"] + 1, "publish_at": due.publish_at.isoformat()}
    hooks = {d.payload["data"]["artifact"]: d.payload["data"] for d in WebhookDelivery.objects.filter(event="artifact.published")}
    assert set(hooks) == {str(by_hand.pk), str(due.pk)}
    assert set(hooks[str(due.pk)]) == set(hooks[str(by_hand.pk)])  # the same payload shape


def test_a_rejected_or_published_meanwhile_artifact_is_not_published_by_the_sweep(make_approved, reviewer_access):
    rejected, early = make_approved(2)
    for artifact in (rejected, early):
        artifact_schedule_publish(artifact=artifact, access=reviewer_access, publish_at=soon())
    artifact_reject(artifact=rejected, access=reviewer_access, comment="The offer ended")
    artifact_publish(artifact=early, access=reviewer_access)  # a person did not wait
    assert Artifact.objects.get(pk=rejected.pk).publish_at is None
    assert artifacts_publish_due() == 0
    assert PublishedItem.objects.filter(artifact=rejected).count() == 0
    assert events(early, "artifact.published").count() == 1


def test_a_row_another_sweep_holds_is_skipped_not_waited_for(make_approved, reviewer_access):
    held, free = make_approved(2)
    for artifact in (held, free):
        artifact_schedule_publish(artifact=artifact, access=reviewer_access, publish_at=soon())
    make_due(held, free)
    locked, release, result = threading.Event(), threading.Event(), {}

    def other_sweep():  # holds one due row, as a sweep in the middle of publishing it does
        with transaction.atomic():
            Artifact.objects.select_for_update().get(pk=held.pk)
            locked.set()
            release.wait(30)
        connection.close()

    thread = threading.Thread(target=other_sweep)
    thread.start()
    assert locked.wait(30)
    try:
        result["published"] = artifacts_publish_due()
    finally:
        release.set()
        thread.join()
    assert result["published"] == 1
    assert (Artifact.objects.get(pk=held.pk).status, Artifact.objects.get(pk=free.pk).status) == ("scheduled", "published")
    assert artifacts_publish_due() == 1


def test_concurrent_sweeps_publish_each_artifact_once(make_approved, reviewer_access):
    artifacts = make_approved(8)
    for artifact in artifacts:
        artifact_schedule_publish(artifact=artifact, access=reviewer_access, publish_at=soon())
    make_due(*artifacts)
    start, counts = threading.Barrier(4), []

    def sweep():
        start.wait()
        try:
            counts.append(artifacts_publish_due())
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 8
    assert PublishedItem.objects.filter(artifact__in=artifacts).count() == 8
    assert AuditEvent.objects.filter(action="artifact.published", actor_type="schedule").count() == 8


def test_a_publication_that_fails_goes_back_to_approved_with_the_reason(make_approved, reviewer_access, monkeypatch):
    broken, fine = make_approved(2)
    for artifact in (broken, fine):
        artifact_schedule_publish(artifact=artifact, access=reviewer_access, publish_at=soon())
    make_due(broken, fine)
    from pressroom.jobs.services import artifacts as artifact_services

    real_feed_append = artifact_services.feed_append

    def feed_append(*, artifact):  # fault injection: the feed refuses one artifact
        if artifact.pk == broken.pk:
            raise RuntimeError("feed unavailable")
        return real_feed_append(artifact=artifact)

    monkeypatch.setattr(artifact_services, "feed_append", feed_append)
    assert artifacts_publish_due() == 1
    stored = Artifact.objects.get(pk=broken.pk)
    assert (stored.status, stored.publish_at, Artifact.objects.get(pk=fine.pk).status) == ("approved", None, "published")
    failure = events(broken, "artifact.schedule_failed").get()
    assert failure.actor_type == "schedule" and failure.data["reason"] == "feed unavailable"
    assert artifacts_publish_due() == 0  # not retried every sweep
