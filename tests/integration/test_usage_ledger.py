"""The usage ledger as a real worker writes it: each job's tokens and its measured share of
the batched model calls, recorded with its result; time spent before a failure too."""
import json
from collections import defaultdict

import pytest

from pressroom.accounts.access import Access
from pressroom.jobs.models import Artifact, Job, JobStatus
from pressroom.jobs.services import job_create
from pressroom.usage.models import UsageDay, UsageRecord
from pressroom_workers.testing import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.models]

PROMPTS = ["Name a colour.", "Say hello.", "Name a fruit.", "Count to two."]


def finished(*jobs: Job):
    def check():
        statuses = Job.objects.filter(pk__in=[job.pk for job in jobs]).values_list("status", flat=True)
        return all(status in ("succeeded", "failed", "cancelled") for status in statuses)

    return check


TRANSFORMERS = json.dumps({"text-default": {"task": "text-generation", "source": "smollm2-135m-instruct",
                                           "engine": "transformers"}})


def test_a_real_worker_records_tokens_and_shares_each_batched_call_across_its_jobs(start_worker, workspace):
    jobs = [job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": p, "max_new_tokens": 4})
            for p in PROMPTS]
    # Queued before the worker starts: its first batch window takes them together.
    worker = start_worker("usage", PRESSROOM_BATCH_SIZE="8", PRESSROOM_BATCH_WAIT_SECONDS="1.0",
                          PRESSROOM_MODELS=TRANSFORMERS)
    wait_for(finished(*jobs), timeout=240, what="the text jobs")

    seconds_by_call: dict[str, list[float]] = defaultdict(list)
    for job in jobs:
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED, (job.error_message, worker.log())
        artifact = Artifact.objects.get(job=job)
        record = UsageRecord.objects.get(job=job)  # exactly one entry per job
        params = artifact.generation_params
        assert (record.outcome, record.jobs, record.attempt, record.use_case) == ("succeeded", 1, 1, "core.text")
        assert record.output_tokens == params["new_tokens"] >= 1
        assert record.input_tokens > len(artifact.generation_params["prompt"].split())  # chat template included
        assert (record.images, record.steps) == (0, 0)
        # The job's share of its model call: the call's measured wall time over its items.
        assert params["call_seconds"] > 0
        assert record.model_seconds == pytest.approx(params["call_seconds"] / params["batch_size"])
        seconds_by_call[params["batch_id"]].append(record.model_seconds)
    batches = Artifact.objects.filter(job__in=jobs).values_list("generation_params", flat=True)
    assert max(params["batch_size"] for params in batches) > 1, "the jobs should have shared a model call"
    for params in batches:
        shares = seconds_by_call[params["batch_id"]]
        assert len(shares) == params["batch_size"]  # every item of the call belongs to one of these jobs
        assert sum(shares) == pytest.approx(params["call_seconds"])  # shared out whole, nothing guessed

    day = UsageDay.objects.get(workspace=workspace, use_case="core.text")
    records = UsageRecord.objects.filter(workspace=workspace)
    assert day.jobs == len(PROMPTS) == records.count()
    assert day.output_tokens == sum(r.output_tokens for r in records)
    assert day.model_seconds == pytest.approx(sum(r.model_seconds for r in records))


def test_a_job_that_fails_after_spending_model_time_still_records_it(start_worker, workspace):
    """The recommendation use case embeds the catalogue, then writes: with the text model
    missing the second step fails, after the embedding model has run for it."""
    job = job_create(access=Access.system(workspace), use_case_key="recommendation.personalised", input={
        "catalog": [{"id": "p1", "name": "Espresso Machine", "description": "coffee"},
                    {"id": "p2", "name": "Milk Frother", "description": "frothing milk"}],
        "customers": [{"id": "c1", "name": "Ana", "events": [{"product_id": "p1", "type": "purchase", "at": "2026-11-01T10:00:00Z"}]}],
        "top_k": 1,
    })
    broken = {"text-default": {"task": "text-generation", "source": "no-such-model-folder"}}
    worker = start_worker("broken", PRESSROOM_MODELS=json.dumps(broken))
    wait_for(finished(job), timeout=240, what="the job to fail")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "no-such-model-folder" in job.error_message, worker.log()
    record = UsageRecord.objects.get(job=job)
    assert (record.outcome, record.jobs, record.output_tokens) == ("failed", 1, 0)
    assert record.model_seconds > 0  # the embedding call it used before the text step failed
    assert UsageDay.objects.get(workspace=workspace).model_seconds == pytest.approx(record.model_seconds)


def test_with_llamacpp_each_job_records_its_own_measured_share_of_the_decoding_steps(start_worker, workspace):
    """Continuous batching: items join and leave running steps, so the engine measures each
    item's share of every step it was in; the ledger records that share."""
    jobs = [job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": p, "max_new_tokens": 6})
            for p in PROMPTS]
    worker = start_worker("usage-llamacpp", PRESSROOM_BATCH_SIZE="8", PRESSROOM_BATCH_WAIT_SECONDS="1.0")
    wait_for(finished(*jobs), timeout=240, what="the text jobs")
    params = []
    for job in jobs:
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED, (job.error_message, worker.log())
        artifact, record = Artifact.objects.get(job=job), UsageRecord.objects.get(job=job)
        params.append(artifact.generation_params)
        assert artifact.generation_params["engine"] == "llama.cpp"
        assert record.output_tokens == artifact.generation_params["new_tokens"] >= 1
        # Its own share: never more than the wall time of its call, and what the ledger holds.
        assert 0 < record.model_seconds == pytest.approx(artifact.generation_params["model_seconds"])
        assert record.model_seconds <= artifact.generation_params["call_seconds"]
    assert max(p["batch_size"] for p in params) > 1, "the jobs should have been decoded together"
