"""Quotas are enforced when jobs or campaigns are created: a clear refusal naming the limit,
and nothing written."""
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from pressroom.accounts.access import Access
from pressroom.audit.models import AuditEvent
from pressroom.campaigns.models import Campaign
from pressroom.campaigns.services import campaign_create
from pressroom.core.errors import NotAllowed, QuotaExceeded
from pressroom.jobs.models import Job
from pressroom.jobs.services import job_create
from pressroom.usage.metering import Usage
from pressroom.usage.models import Quota
from pressroom.usage.selectors import period_resets_at
from pressroom.usage.services import quota_reserve, quota_set
from tests.factories import UserFactory, access_of, member
from tests.usage.conftest import TEXT


def create_text_job(workspace):
    return job_create(access=Access.system(workspace), use_case_key="core.text", input=TEXT)


def test_without_a_quota_the_reservation_is_one_query_and_refuses_nothing(workspace):
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        quota_reserve(workspace=workspace, jobs=10_000)
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 1 and "usage_quota" in statements[0] and "FOR UPDATE" in statements[0]


def test_jobs_over_the_daily_limit_are_refused_with_the_limit_the_usage_and_the_reset(workspace, set_quota):
    set_quota(workspace, jobs_per_day=2)
    create_text_job(workspace)
    create_text_job(workspace)
    with pytest.raises(QuotaExceeded) as refused:
        create_text_job(workspace)
    error = refused.value
    assert (error.metric, error.period, error.limit, error.usage, error.requested) == ("jobs", "day", 2, 2, 1)
    now = datetime.now(timezone.utc)
    assert error.resets_at == datetime(now.year, now.month, now.day, tzinfo=timezone.utc) + timedelta(days=1)
    assert "2 jobs per day" in error.message and "start of the next day" in error.message
    assert Job.objects.filter(workspace=workspace).count() == 2


def test_a_campaign_that_would_cross_the_jobs_limit_is_refused_whole(workspace, set_quota):
    set_quota(workspace, jobs_per_month=10)
    create_text_job(workspace)
    events_before = AuditEvent.objects.filter(workspace=workspace).count()
    rows = [{"prompt": f"Tagline for shop {n}", "max_new_tokens": 8} for n in range(10)]
    with pytest.raises(QuotaExceeded) as refused:
        campaign_create(access=Access.system(workspace), use_case_key="core.text", rows=rows)
    assert (refused.value.metric, refused.value.period, refused.value.usage, refused.value.requested) == ("jobs", "month", 1, 10)
    assert refused.value.resets_at.day == 1 and refused.value.resets_at.hour == 0
    assert Job.objects.filter(workspace=workspace).count() == 1
    assert not Campaign.objects.filter(workspace=workspace).exists()
    assert AuditEvent.objects.filter(workspace=workspace).count() == events_before
    # Exactly what is left fits.
    campaign = campaign_create(access=Access.system(workspace), use_case_key="core.text", rows=rows[:9])
    assert campaign.jobs.count() == 9


@pytest.mark.parametrize(("limit", "usage", "metric"), [
    ({"tokens_per_day": 30}, Usage(input_tokens=20, output_tokens=10), "tokens"),
    ({"images_per_month": 4}, Usage(images=4, steps=16), "images"),
    ({"model_seconds_per_day": 2}, Usage(model_seconds=2.5), "model_seconds"),
])
def test_consumed_usage_at_a_limit_refuses_new_jobs(workspace, set_quota, run_job, limit, usage, metric):
    set_quota(workspace, **limit)
    run_job(workspace, usage)  # under the limit until this job's usage is recorded
    with pytest.raises(QuotaExceeded) as refused:
        create_text_job(workspace)
    assert refused.value.metric == metric and refused.value.requested == 0
    assert refused.value.usage >= refused.value.limit


def test_consumed_usage_under_a_limit_lets_jobs_through(workspace, set_quota, run_job):
    set_quota(workspace, tokens_per_day=31, model_seconds_per_month=3)
    run_job(workspace, Usage(input_tokens=20, output_tokens=10, model_seconds=2.5))
    assert create_text_job(workspace).status == "queued"


def test_when_day_and_month_are_both_exceeded_the_error_names_the_later_reset(workspace, set_quota):
    set_quota(workspace, jobs_per_day=1, jobs_per_month=1)
    create_text_job(workspace)
    with pytest.raises(QuotaExceeded) as refused:
        create_text_job(workspace)
    assert refused.value.period == "month"


def test_blank_limits_are_unlimited_and_other_workspaces_do_not_count(workspace, set_quota, other_workspace):
    set_quota(workspace, jobs_per_day=1, tokens_per_day=None)
    create_text_job(other_workspace)
    create_text_job(workspace)
    set_quota(workspace, jobs_per_day=None)
    create_text_job(workspace)  # no longer limited


def test_reset_times_are_the_next_utc_day_and_month():
    now = datetime(2026, 12, 31, 23, 59, tzinfo=timezone.utc)
    assert period_resets_at("day", now) == datetime(2027, 1, 1, tzinfo=timezone.utc)
    assert period_resets_at("month", now) == datetime(2027, 1, 1, tzinfo=timezone.utc)
    assert period_resets_at("month", datetime(2026, 2, 10, 5, tzinfo=timezone.utc)) == datetime(2026, 3, 1, tzinfo=timezone.utc)


def test_only_operators_set_quotas_and_each_change_is_audited(workspace):
    owner = member(workspace, "admin", "owner")
    with pytest.raises(NotAllowed):
        quota_set(access=access_of(owner, workspace), jobs_per_day=1000)
    operator = UserFactory(username="op", is_superuser=True, is_staff=True)
    quota_set(access=access_of(operator, workspace), jobs_per_day=5)
    quota_set(access=access_of(operator, workspace), jobs_per_day=5)  # no change, no event
    event = AuditEvent.objects.get(workspace=workspace, action="workspace.quota_changed")
    assert event.data["before"]["jobs_per_day"] is None and event.data["after"]["jobs_per_day"] == 5
    assert event.actor_label == "op"


@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_near_the_limit_let_exactly_the_allowed_number_through(workspace):
    """Eight requests at once against a limit with three jobs left: the quota row's lock makes
    them count one after another, so exactly three pass (without it, all eight would)."""
    Quota.objects.create(workspace=workspace, jobs_per_day=5)
    create_text_job(workspace)
    create_text_job(workspace)
    start, outcomes = threading.Barrier(8), []

    def submit(n: int) -> None:
        try:
            start.wait()
            with transaction.atomic():
                quota_reserve(workspace=workspace, jobs=1)
                time.sleep(0.2)  # a slow creation: the others must wait for it, not count past it
                Job.objects.create(workspace=workspace, use_case="core.text", modality="text", input=TEXT, base_seed=n)
            outcomes.append("created")
        except QuotaExceeded:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["created"] * 3 + ["refused"] * 5
    assert Job.objects.filter(workspace=workspace).count() == 5


@pytest.fixture
def other_workspace(db):
    from tests.factories import WorkspaceFactory

    return WorkspaceFactory()
