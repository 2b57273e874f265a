"""Approved artifacts made the way the platform makes them: a job that ran, screening,
and a reviewer's approval."""
import pytest

from pressroom.accounts.access import Access
from pressroom.accounts.models import Role
from pressroom.audit.services import SYSTEM
from pressroom.jobs import services as jobs
from pressroom.jobs.models import Artifact
from pressroom.plugins import ArtifactDraft, ModelProvenance
from pressroom.safety.services import safety_policy_update
from tests.factories import access_of, member

PROVENANCE = ModelProvenance(alias="text-default", source="/models/smollm2", revision="sha256:abc", batch_id="b")
CLEAN = "Fresh bread every morning at our bakery."
BANNED = "Our tea is a guaranteed cure for colds."


@pytest.fixture
def reviewer(workspace):
    return member(workspace, Role.REVIEWER, "rita")


@pytest.fixture
def reviewer_access(reviewer, workspace):
    return access_of(reviewer, workspace)


@pytest.fixture
def make_screened(workspace):
    """Artifacts of one finished job, screened (a banned term blocks)."""
    safety_policy_update(access=Access.system(workspace), banned_terms=["guaranteed cure"])

    def make(*texts: str) -> list[Artifact]:
        job = jobs.job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "Write copy"})
        jobs.job_start(job=job, worker="test-worker")
        drafts = [ArtifactDraft(kind="text", variant_index=i, text=t, params={}, provenance=PROVENANCE) for i, t in enumerate(texts)]
        jobs.job_succeed(job=job, drafts=drafts, actor=SYSTEM)
        artifacts = list(job.artifacts.order_by("variant_index"))
        jobs.artifacts_screen(artifact_ids=[a.pk for a in artifacts])
        return [Artifact.objects.get(pk=a.pk) for a in artifacts]

    return make


@pytest.fixture
def make_approved(make_screened, reviewer_access):
    def make(count: int = 1) -> list[Artifact]:
        texts = [f"{CLEAN} Offer {n}." for n in range(count)]
        return [jobs.artifact_approve(artifact=a, access=reviewer_access) for a in make_screened(*texts)]

    return make
