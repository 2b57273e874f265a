import pytest
from rest_framework.test import APIClient

from pressroom.accounts.models import Scope
from pressroom.accounts.services import api_key_create
from pressroom.audit.services import SYSTEM
from pressroom.jobs import services as job_services
from pressroom.plugins import ArtifactDraft, ModelProvenance
from pressroom.jobs.services import artifacts_screen
from pressroom.safety.services import safety_policy_update
from tests.factories import WorkspaceFactory
from pressroom.accounts.access import Access

ALL_SCOPES = list(Scope.values)


@pytest.fixture
def make_client():
    def make(workspace, scopes=ALL_SCOPES, **key_fields):
        key, token = api_key_create(access=Access.system(workspace), name="cms", scopes=scopes, **key_fields)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        client.key, client.token = key, token
        return client

    return make


@pytest.fixture
def api(make_client, workspace):
    return make_client(workspace)


@pytest.fixture
def other_workspace(db):
    return WorkspaceFactory()


@pytest.fixture
def screened_artifacts():
    """Text artifacts made like the worker makes them, then screened."""

    def make(workspace, *texts):
        safety_policy_update(access=Access.system(workspace), banned_terms=["guaranteed cure"])
        job = job_services.job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "Write copy"})
        job_services.job_start(job=job, worker="w")
        provenance = ModelProvenance(alias="text-default", source="/m", revision="sha256:x")
        job_services.job_succeed(job=job, drafts=[ArtifactDraft(kind="text", variant_index=i, text=t, params={}, provenance=provenance)
                                                  for i, t in enumerate(texts)])
        artifacts = list(job.artifacts.order_by("variant_index"))
        artifacts_screen(artifact_ids=[a.pk for a in artifacts])
        for artifact in artifacts:
            artifact.refresh_from_db()
        return job, artifacts

    return make
