"""A worker killed with SIGKILL mid-job: the job is redelivered and completed exactly once."""
import time

import pytest

from pressroom.jobs.models import Artifact, Job, JobStatus
from pressroom.jobs.services import job_create
from pressroom_workers.testing import wait_for
from pressroom.accounts.access import Access

pytestmark = [pytest.mark.worker, pytest.mark.models]

LONG_TEXT = {"prompt": "Write a long story about a lighthouse keeper.", "max_new_tokens": 60, "temperature": 0.8, "variants": 2, "seed": 5}


def running(job):
    return lambda: Job.objects.get(pk=job.pk).status == JobStatus.RUNNING


def assert_completed_once(job, worker):
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, (job.error_message, worker.log())
    assert job.attempts == 2
    artifacts = Artifact.objects.filter(job=job)
    assert sorted(artifacts.values_list("variant_index", flat=True)) == [0, 1]


def test_whole_worker_killed_mid_job_is_redelivered_to_another_worker(start_worker, workspace):
    # The broker hands unacknowledged messages of a dead worker to others after this timeout,
    # which (as in production: 3600 s against 60 s) outlasts the dead worker's job lease.
    fast_redelivery = {"CELERY_VISIBILITY_TIMEOUT": "12", "CELERY_UNACKED_RESTORE_INTERVAL": "1",
                       "PRESSROOM_LEASE_SECONDS": "6"}
    job = job_create(access=Access.system(workspace), use_case_key="core.text", input=LONG_TEXT)
    first = start_worker("doomed", **fast_redelivery)
    wait_for(running(job), timeout=120, what="job to start")
    time.sleep(1.5)  # inside the model call
    first.kill_everything()
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING
    assert not Artifact.objects.filter(job=job).exists()

    second = start_worker("rescuer", **fast_redelivery)
    wait_for(lambda: Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED, timeout=180, what="redelivery")
    assert_completed_once(job, second)
    assert Job.objects.get(pk=job.pk).worker.startswith("rescuer")


def test_pool_process_killed_mid_job_is_requeued_at_once(start_worker, workspace):
    job = job_create(access=Access.system(workspace), use_case_key="core.text", input=LONG_TEXT)
    worker = start_worker()
    wait_for(running(job), timeout=120, what="job to start")
    time.sleep(1.5)
    (child,) = worker.pool_child_pids()
    import os
    import signal

    os.kill(child, signal.SIGKILL)
    wait_for(lambda: Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED, timeout=180, what="requeue")
    assert_completed_once(job, worker)
    (lost,) = [line for line in worker.log().splitlines() if "Batch of 1 jobs lost" in line]
    assert str(job.pk) in lost  # the operator can tell which job it was
