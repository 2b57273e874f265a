"""The job state machine: legal transitions, illegal ones (clear error, nothing changed)."""
import json
from datetime import datetime

import pytest
import redis
from django.conf import settings as django_settings
from django.forms.models import model_to_dict
from django.utils import timezone

from pressroom.core.errors import InvalidTransition
from pressroom.jobs import services
from pressroom.jobs.models import Artifact, Job, JobStatus
from pressroom.plugins import ArtifactDraft, ModelProvenance
from pressroom.accounts.access import Access

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker():
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    client.flushdb()
    return client


def published_countdowns(client) -> list[float]:
    """Seconds between publication and the ETA of every retry message in the queues."""
    countdowns = []
    for key in client.keys("gpu.text*"):
        if client.type(key) != b"list":
            continue
        for raw in client.lrange(key, 0, -1):
            headers = json.loads(raw)["headers"]
            if headers.get("eta"):
                countdowns.append(datetime.fromisoformat(headers["eta"]))
    return countdowns


@pytest.fixture
def job(workspace):
    return services.job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "Hi"})


def draft(index: int = 0, text: str = "Hello") -> ArtifactDraft:
    provenance = ModelProvenance(alias="text-default", source="/models/x", revision="sha256:abc", batch_id="b1")
    return ArtifactDraft(kind="text", variant_index=index, text=text, seed=7, params={"max_new_tokens": 4}, provenance=provenance)


def snapshot(job: Job) -> dict:
    job.refresh_from_db()
    return model_to_dict(job)


def test_happy_path_start_then_succeed(job):
    started = services.job_start(job=job, worker="w1")
    assert started.status == JobStatus.RUNNING and started.attempts == 1 and started.worker == "w1"
    assert started.started_at is not None

    done = services.job_succeed(job=job, drafts=[draft(0), draft(1, "Bye")])
    assert done.status == JobStatus.SUCCEEDED and done.progress == 100 and done.finished_at
    artifact = Artifact.objects.get(job=job, variant_index=1)
    assert artifact.text == "Bye" and artifact.status == "screening" and artifact.seed == 7
    assert artifact.model_revision == "sha256:abc" and artifact.generation_params["batch_id"] == "b1"
    assert artifact.workspace_id == job.workspace_id


def test_succeed_is_idempotent_for_a_redelivered_job(job):
    services.job_start(job=job)
    services.job_succeed(job=job, drafts=[draft(0)])
    services.job_succeed(job=job, drafts=[draft(0, "a second run")])
    assert list(Artifact.objects.filter(job=job).values_list("text", flat=True)) == ["Hello"]


@pytest.mark.parametrize(
    ("action", "kwargs"),
    [
        (services.job_succeed, {"drafts": []}),
        (services.job_retry_later, {"error": "x"}),
    ],
)
def test_queued_job_cannot_finish_without_running(job, action, kwargs):
    before = snapshot(job)
    with pytest.raises(InvalidTransition, match="it is queued"):
        action(job=job, **kwargs)
    assert snapshot(job) == before


@pytest.mark.parametrize("final", ["fail", "cancel"])
def test_finished_jobs_reject_every_further_change(job, final):
    if final == "fail":
        services.job_fail(job=job, error="boom")
    else:
        services.job_cancel(job=job, access=Access.system(job.workspace))
    before = snapshot(job)
    for action, kwargs in [
        (services.job_succeed, {"drafts": [draft()]}),
        (services.job_fail, {"error": "again"}),
        (services.job_cancel, {"access": Access.system(job.workspace)}),
        (services.job_retry_later, {"error": "x"}),
    ]:
        with pytest.raises(InvalidTransition) as error:
            action(job=job, **kwargs)
        assert str(job.pk) in error.value.message
    assert snapshot(job) == before
    assert not Artifact.objects.filter(job=job).exists()


def test_finished_job_is_not_started_again(job):
    services.job_start(job=job)
    services.job_succeed(job=job, drafts=[draft()])
    assert services.job_start(job=job) is None
    assert Job.objects.get(pk=job.pk).attempts == 1


def test_redelivery_of_a_running_job_counts_an_attempt_once_its_lease_lapsed(job):
    services.job_start(job=job, worker="w1")
    assert services.job_start(job=job, worker="w2") is None  # w1 still holds the lease: a duplicate message
    services.jobs_lease_release(job_ids=[job.pk], worker="w1")  # w1's pool process died
    again = services.job_start(job=job, worker="w2")
    assert again.attempts == 2 and again.worker == "w2"
    assert again.lease_expires_at > timezone.now()


def test_the_same_worker_takes_its_job_back_after_its_pool_process_died(job):
    services.job_start(job=job, worker="w1")
    assert services.job_start(job=job, worker="w1").attempts == 2


def test_the_sweeper_requeues_a_job_whose_lease_lapsed_and_fails_it_after_the_last_attempt(job, settings,
                                                                                         django_capture_on_commit_callbacks):
    from pressroom.jobs.models import JobDispatch

    settings.PRESSROOM = {"JOB_MAX_ATTEMPTS": 2}
    services.job_start(job=job, worker="w1")
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=False):
        assert services.jobs_requeue_lapsed() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and JobDispatch.objects.filter(job=job).exists()
    services.job_start(job=job, worker="w2")
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now())
    services.jobs_requeue_lapsed()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "stopped renewing its lease" in job.error_message


def test_attempts_are_capped(job, settings):
    settings.PRESSROOM = {"JOB_MAX_ATTEMPTS": 2}
    services.job_start(job=job)
    services.job_start(job=job)
    assert services.job_start(job=job) is None
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "Gave up after 2 attempts" in job.error_message


def test_cancel_queued_job_is_immediate(job):
    cancelled = services.job_cancel(job=job, access=Access.system(job.workspace))
    assert cancelled.status == JobStatus.CANCELLED and cancelled.finished_at
    assert services.job_start(job=job) is None  # a queued job that was cancelled never starts


def test_cancel_running_job_stops_at_next_boundary(job):
    services.job_start(job=job)
    requested = services.job_cancel(job=job, access=Access.system(job.workspace))
    assert requested.status == JobStatus.RUNNING and requested.cancel_requested_at
    assert services.job_stop_if_requested(job=job) is True
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED


def test_running_job_without_cancel_request_keeps_running(job):
    services.job_start(job=job)
    assert services.job_stop_if_requested(job=job) is False
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING


def test_retry_later_requeues_with_exponential_backoff(job, broker, settings, django_capture_on_commit_callbacks):
    settings.PRESSROOM = {"RETRY_BACKOFF_SECONDS": 30, "JOB_MAX_ATTEMPTS": 5}
    services.job_start(job=job)
    with django_capture_on_commit_callbacks(execute=True):
        services.job_retry_later(job=job, error="CUDA out of memory")
    services.job_start(job=job)
    with django_capture_on_commit_callbacks(execute=True):
        services.job_retry_later(job=job, error="CUDA out of memory")
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and "Retrying in 60s" in job.error_message
    now = timezone.now()
    waits = sorted(round((eta - now).total_seconds()) for eta in published_countdowns(broker))
    assert len(waits) == 2
    assert 25 <= waits[0] <= 30 and 55 <= waits[1] <= 60


def test_retry_after_last_attempt_fails_the_job(job, settings):
    settings.PRESSROOM = {"JOB_MAX_ATTEMPTS": 1}
    services.job_start(job=job)
    failed = services.job_retry_later(job=job, error="still out of memory")
    assert failed.status == JobStatus.FAILED and "Failed after 1 attempts" in failed.error_message


def test_progress_only_moves_forward_while_running(job):
    services.job_set_progress(job=job, progress=50)
    assert Job.objects.get(pk=job.pk).progress == 0  # queued: ignored
    services.job_start(job=job)
    services.job_set_progress(job=job, progress=60)
    services.job_set_progress(job=job, progress=30)
    assert Job.objects.get(pk=job.pk).progress == 60


def test_duplicate_variant_indexes_are_refused(job):
    services.job_start(job=job)
    with pytest.raises(ValueError, match="duplicate variant"):
        services.job_succeed(job=job, drafts=[draft(0), draft(0)])
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING
    assert not Artifact.objects.filter(job=job).exists()


def test_a_redelivered_image_replaces_the_earlier_attempts_file(job, settings):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from pressroom.plugins import ArtifactDraft, ModelProvenance

    services.job_start(job=job, worker="w1")
    folder = f"artifacts/{job.workspace_id}/{job.pk}"
    default_storage.save(f"{folder}/variant-0.png", ContentFile(b"left by a worker killed before it committed"))
    provenance = ModelProvenance(alias="image-default", source="/m", revision="sha256:x")
    png = b"\x89PNG\r\n\x1a\n" + b"new"
    services.job_succeed(job=job, drafts=[ArtifactDraft(kind="image", variant_index=0, png=png, params={}, provenance=provenance)])
    artifact = job.artifacts.get()
    assert artifact.file.name == f"{folder}/variant-0.png" and artifact.file.read() == png
    assert default_storage.listdir(folder)[1] == ["variant-0.png"]  # no orphan beside it


def test_an_operator_can_retry_a_job_stuck_on_a_lost_worker(job):
    services.job_start(job=job, worker="w1")
    with pytest.raises(InvalidTransition):
        services.job_retry(job=job, access=Access.system(job.workspace))  # its worker still holds it
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now())
    retried = services.job_retry(job=job, access=Access.system(job.workspace))
    assert retried.status == JobStatus.QUEUED and retried.attempts == 0
