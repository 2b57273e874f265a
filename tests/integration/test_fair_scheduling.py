"""One workspace's backlog cannot hold another's jobs for long."""
import pytest

from pressroom.accounts.access import Access
from pressroom.jobs.models import Job
from pressroom.jobs.services import job_create
from pressroom_workers.testing import wait_for
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.worker

PROMPT = {"prompt": "Say hi.", "max_new_tokens": 2}


def test_a_late_job_of_a_quiet_workspace_is_served_before_most_of_a_flood(start_worker, workspace):
    quiet = WorkspaceFactory()
    flood = [job_create(access=Access.system(workspace), use_case_key="core.text", input=PROMPT) for _ in range(10)]
    late = job_create(access=Access.system(quiet), use_case_key="core.text", input=PROMPT)
    start_worker(PRESSROOM_BATCH_SIZE="1")  # one job at a time: the order is visible
    everyone = [*flood, late]
    wait_for(lambda: Job.objects.filter(pk__in=[j.pk for j in everyone], status="succeeded").count() == len(everyone),
             timeout=240, what="every job to finish")
    order = list(Job.objects.filter(pk__in=[j.pk for j in everyone]).order_by("started_at").values_list("pk", flat=True))
    assert order.index(late.pk) <= 2, order.index(late.pk)  # FIFO would make it the 11th
