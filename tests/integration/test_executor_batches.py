"""A batch of job messages on the real executor and the offline model."""
import uuid

import pytest

from pressroom.accounts.access import Access
from pressroom.jobs.models import Job
from pressroom.jobs.services import job_create

pytestmark = [pytest.mark.models]


def test_a_message_for_no_such_job_is_skipped_and_the_rest_of_its_batch_runs(transactional_db, workspace):
    # Before: job_start raised DoesNotExist, the whole batch failed, and the broker handed the
    # same messages back forever, so the real job beside it never ran.
    from pressroom_workers.executor import JobBatchExecutor
    from pressroom_workers.runtime import ModelRuntime

    job = job_create(access=Access.system(workspace), use_case_key="core.text",
                     input={"prompt": "Say hello.", "max_new_tokens": 4})
    missing = str(uuid.uuid4())
    report = JobBatchExecutor(ModelRuntime(), worker_name="test-worker").run([missing, str(job.pk)])
    assert report.skipped == [missing]
    assert report.succeeded == [str(job.pk)] and Job.objects.get(pk=job.pk).status == "succeeded"
