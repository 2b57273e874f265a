"""The ledger is written with each job's result, in the same transaction, once."""
import pytest

from pressroom.accounts.access import Access
from pressroom.jobs import services as job_services
from pressroom.jobs.models import Job
from pressroom.plugins import EmbeddingOutput, ImageOutput, ModelProvenance, TextOutput
from pressroom.usage.metering import Usage, usage_of_result
from pressroom.usage.models import UsageDay, UsageRecord
from tests.usage.conftest import TEXT, day_sums, ledger_sums, text_draft

SPENT = Usage(input_tokens=20, output_tokens=8, model_seconds=0.25)


def test_a_succeeded_job_adds_one_entry_and_a_redelivered_result_adds_nothing(run_job, workspace):
    job = run_job(workspace, SPENT)
    record = UsageRecord.objects.get(job=job)
    assert (record.outcome, record.jobs, record.input_tokens, record.output_tokens) == ("succeeded", 1, 20, 8)
    assert record.model_seconds == pytest.approx(0.25) and record.use_case == "core.text" and record.attempt == 1

    job_services.job_succeed(job=job, drafts=[text_draft()], usage=SPENT)  # the same result delivered again
    assert UsageRecord.objects.filter(job=job).count() == 1
    assert day_sums(workspace) == ledger_sums(workspace)


def test_a_job_that_failed_after_spending_model_time_records_that_time(run_job, workspace):
    job = run_job(workspace, Usage(input_tokens=5, model_seconds=1.5), fail=True)
    record = UsageRecord.objects.get(job=job)
    assert (record.outcome, record.jobs, record.input_tokens) == ("failed", 1, 5)
    assert record.model_seconds == pytest.approx(1.5)


def test_an_attempt_retried_later_records_its_time_but_not_a_job(workspace):
    job = job_services.job_create(access=Access.system(workspace), use_case_key="core.text", input=TEXT)
    job_services.job_start(job=job, worker="w")
    job_services.job_retry_later(job=job, error="busy", usage=Usage(model_seconds=0.5))
    job_services.job_start(job=job, worker="w")
    job_services.job_succeed(job=job, drafts=[text_draft()], usage=Usage(model_seconds=0.25))
    records = list(UsageRecord.objects.filter(job=job).order_by("attempt"))
    assert [(r.attempt, r.outcome, r.jobs) for r in records] == [(1, "retried", 0), (2, "succeeded", 1)]
    day = UsageDay.objects.get(workspace=workspace)
    assert day.jobs == 1 and day.model_seconds == pytest.approx(0.75)


def test_a_retry_that_spent_nothing_writes_no_entry(workspace):
    job = job_services.job_create(access=Access.system(workspace), use_case_key="core.text", input=TEXT)
    job_services.job_start(job=job, worker="w")
    job_services.job_retry_later(job=job, error="busy")
    assert not UsageRecord.objects.filter(job=job).exists()


def test_a_job_cancelled_at_a_step_boundary_records_what_it_spent(workspace):
    job = job_services.job_create(access=Access.system(workspace), use_case_key="core.text", input=TEXT)
    job_services.job_start(job=job, worker="w")
    job_services.job_cancel(job=Job.objects.get(pk=job.pk), access=Access.system(workspace))
    assert job_services.job_stop_if_requested(job=job, usage=Usage(output_tokens=3, model_seconds=0.1))
    record = UsageRecord.objects.get(job=job)
    assert (record.outcome, record.jobs, record.output_tokens) == ("cancelled", 1, 3)


def test_day_sums_follow_the_ledger_per_use_case(run_job, workspace, other_workspace):
    run_job(workspace, SPENT)
    run_job(workspace, SPENT)
    run_job(workspace, Usage(images=2, steps=8, model_seconds=2.0), use_case="core.text", fail=True)
    run_job(other_workspace, SPENT)
    assert UsageDay.objects.filter(workspace=workspace).count() == 1
    assert day_sums(workspace) == ledger_sums(workspace)
    assert ledger_sums(workspace)["jobs"] == 3 and ledger_sums(workspace)["images"] == 2
    assert day_sums(other_workspace)["jobs"] == 1


def test_a_result_is_measured_from_its_outputs_share_of_each_call():
    call = ModelProvenance(alias="text-default", source="/m", revision="r", batch_id="b", batch_size=4, call_seconds=2.0)
    texts = [TextOutput(text="a", seed=None, new_tokens=5, prompt_tokens=12, params={}, provenance=call)] * 2
    usage = usage_of_result(texts)
    assert (usage.input_tokens, usage.output_tokens, usage.images) == (24, 10, 0)
    assert usage.model_seconds == pytest.approx(1.0)  # two of the call's four items

    image_call = ModelProvenance(alias="image-default", source="/m", revision="r", batch_size=2, call_seconds=3.0)
    images = [ImageOutput(png=b"", seed=1, params={"steps": 4}, provenance=image_call)]
    assert usage_of_result(images) == Usage(images=1, steps=4, model_seconds=1.5)
    assert usage_of_result(EmbeddingOutput(vectors=[[0.1]], model_seconds=0.2)).model_seconds == 0.2
    assert usage_of_result(RuntimeError("failed request")).is_empty


@pytest.fixture
def other_workspace(db):
    from tests.factories import WorkspaceFactory

    return WorkspaceFactory()
