import pytest

from pressroom.accounts.models import Role
from pressroom.audit.services import SYSTEM
from pressroom.jobs import services as job_services
from pressroom.plugins import ArtifactDraft, ModelProvenance
from tests.factories import member
from pressroom.accounts.access import Access

PROVENANCE = ModelProvenance(alias="text-default", source="/models/smollm2", revision="sha256:abc", batch_id="b")


@pytest.fixture
def make_artifacts(workspace):
    """Artifacts made the way the worker makes them: a job that ran and succeeded."""

    def make(*texts: str, use_case: str = "core.text"):
        job = job_services.job_create(access=Access.system(workspace), use_case_key=use_case, input={"prompt": "Write copy"})
        job_services.job_start(job=job, worker="test-worker")
        drafts = [ArtifactDraft(kind="text", variant_index=i, text=t, params={}, provenance=PROVENANCE) for i, t in enumerate(texts)]
        job_services.job_succeed(job=job, drafts=drafts, actor=SYSTEM)
        return list(job.artifacts.order_by("variant_index"))

    return make


@pytest.fixture
def reviewer(workspace):
    return member(workspace, Role.REVIEWER, "rita")


@pytest.fixture
def editor(workspace):
    return member(workspace, Role.EDITOR, "ed")
