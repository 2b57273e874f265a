import pytest

from pressroom.accounts.access import Access
from pressroom.jobs import services as job_services
from pressroom.plugins import ArtifactDraft, ModelProvenance
from pressroom.usage.metering import Usage
from pressroom.usage.models import UsageDay, UsageRecord
from pressroom.usage.services import quota_set

TEXT = {"prompt": "Write a tagline.", "max_new_tokens": 8}


def text_draft(call_seconds: float = 0.3, batch_size: int = 3) -> ArtifactDraft:
    provenance = ModelProvenance(alias="text-default", source="/m", revision="sha256:x", batch_id="b1",
                                 batch_size=batch_size, call_seconds=call_seconds)
    return ArtifactDraft(kind="text", variant_index=0, text="Fresh bread daily.", params={}, provenance=provenance)


@pytest.fixture
def run_job():
    """A job created, started and finished through the services, as the worker does."""

    def run(workspace, usage: Usage | None = None, *, use_case: str = "core.text", fail: bool = False):
        job = job_services.job_create(access=Access.system(workspace), use_case_key=use_case, input=TEXT)
        job_services.job_start(job=job, worker="w")
        if fail:
            return job_services.job_fail(job=job, error="boom", usage=usage)
        return job_services.job_succeed(job=job, drafts=[text_draft()], usage=usage)

    return run


@pytest.fixture
def set_quota():
    def set_(workspace, **limits):
        return quota_set(access=Access.system(workspace), **limits)

    return set_


def ledger_sums(workspace) -> dict:
    """The ledger's entries summed by hand, for comparison with what the selectors report."""
    sums = dict.fromkeys(("jobs", "input_tokens", "output_tokens", "images", "steps", "model_seconds"), 0)
    for record in UsageRecord.objects.filter(workspace=workspace):
        for name in sums:
            sums[name] += getattr(record, name)
    return sums


def day_sums(workspace) -> dict:
    sums = dict.fromkeys(("jobs", "input_tokens", "output_tokens", "images", "steps", "model_seconds"), 0)
    for day in UsageDay.objects.filter(workspace=workspace):
        for name in sums:
            sums[name] += getattr(day, name)
    return sums
