import pytest

from pressroom.accounts.access import Access
from pressroom.audit.services import SYSTEM
from pressroom.jobs import services as job_services
from pressroom.plugins import ArtifactDraft, ModelProvenance
from pressroom.safety.checks.base import Subject
from pressroom.safety.models import SafetyPolicy
from pressroom.safety.screening import screen

PROVENANCE = ModelProvenance(alias="text-default", source="/models/smollm2", revision="sha256:abc", batch_id="b")


def judge(check, text: str, brief=None, policy=None, data=None):
    """One quality check's result for one artifact text, through the real screen()."""
    subject = Subject(text=text, label="artifact", brief=brief, data=data or {})
    (screening,) = screen([subject], policy or SafetyPolicy(), [check])
    (result,) = screening.results
    return result


@pytest.fixture
def make_artifacts(workspace):
    """Artifacts made the way the worker makes them, from a job with this input."""

    def make(*texts: str, prompt: str = "Write copy for our bakery"):
        job = job_services.job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": prompt})
        job_services.job_start(job=job, worker="test-worker")
        drafts = [ArtifactDraft(kind="text", variant_index=i, text=t, params={}, provenance=PROVENANCE) for i, t in enumerate(texts)]
        job_services.job_succeed(job=job, drafts=drafts, actor=SYSTEM)
        return list(job.artifacts.order_by("variant_index"))

    return make


@pytest.fixture
def reviewer(workspace):
    from pressroom.accounts.models import Role
    from tests.factories import member

    return member(workspace, Role.REVIEWER, "rita")
