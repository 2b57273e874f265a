"""A campaign through a real worker on Redis: its jobs are published from the outbox in
bulk after commit, run, and the campaign finishes once with its webhook event."""
import pytest

from pressroom.accounts.access import Access
from pressroom.audit.models import AuditEvent
from pressroom.campaigns.selectors import campaign_progress
from pressroom.campaigns.services import campaign_create
from pressroom.jobs.models import JobDispatch
from pressroom.publishing.models import WebhookDelivery, WebhookEndpoint
from pressroom_workers.testing import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.models]


def test_a_campaign_runs_to_the_end_and_says_so_once(start_worker, workspace):
    WebhookEndpoint.objects.create(workspace=workspace, url="https://cms.example.com/hook", events=["campaign.finished"])
    rows = [{"prompt": f"Write a tagline for bakery number {n}.", "max_new_tokens": 8} for n in range(4)]
    campaign = campaign_create(access=Access.system(workspace), use_case_key="core.text", rows=rows, name="Bakeries")
    wait_for(lambda: not JobDispatch.objects.filter(job__campaign=campaign).exists(), timeout=30,
             what="the outbox rows to be published after commit")
    worker = start_worker()
    def finished():
        campaign.refresh_from_db()
        return campaign.finished_at is not None

    wait_for(finished, timeout=240, what="the campaign to finish")
    progress = campaign_progress(campaign)
    assert progress.done == 4 and progress.failed == 0, worker.log()
    assert progress.jobs_per_minute and progress.seconds_left == 0
    texts = [job.artifacts.get().text for job in campaign.jobs.order_by("campaign_row")]
    assert all(text.strip() for text in texts)
    assert WebhookDelivery.objects.filter(event="campaign.finished").count() == 1
    assert AuditEvent.objects.filter(action="campaign.finished", object_id=str(campaign.pk)).count() == 1


def test_one_sweep_sends_a_whole_campaign_backlog_left_by_a_broker_outage(broker, workspace, settings):
    from pressroom.jobs.dispatch import dispatches_relay
    from pressroom.jobs.models import JobDispatch

    rows = [{"prompt": f"Row {n}"} for n in range(1200)]
    campaign = campaign_create(access=Access.system(workspace), use_case_key="core.text", rows=rows)
    # In a test transaction nothing was published at commit: the rows wait as after an outage.
    assert JobDispatch.objects.filter(job__campaign=campaign).count() == 1200
    settings.PRESSROOM = {**settings.PRESSROOM, "DISPATCH_GRACE_SECONDS": 0}
    assert dispatches_relay(limit=500) == 1200
    assert not JobDispatch.objects.filter(job__campaign=campaign).exists()
    assert sum(broker.llen(key) for key in broker.keys("gpu.text*")) == 1200
