"""Two workspaces, each with a finished image job and text artifacts in every state that
matters, and the credentials an attacker in workspace A holds."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from pressroom.accounts.access import Access
from pressroom.accounts.models import Role, Scope
from pressroom.accounts.services import api_key_create
from pressroom.audit.services import SYSTEM
from pressroom.campaigns.services import campaign_create
from pressroom.jobs import services as jobs
from pressroom.jobs.models import Artifact, Job
from pressroom.plugins import ArtifactDraft, ModelProvenance
from pressroom.publishing.services import webhook_endpoint_create
from pressroom.safety.services import safety_policy_update
from pressroom.schedules.services import campaign_schedule_create
from tests.factories import WorkspaceFactory, access_of, member

PROVENANCE = ModelProvenance(alias="text-default", source="/m", revision="sha256:x")
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")


@dataclass
class Tenant:
    workspace: object
    job: Job
    image: Artifact
    approved: Artifact
    published: Artifact
    blocked: Artifact
    flagged: Artifact
    passed: Artifact
    admin: object
    viewer: object
    token: str
    webhook: object
    campaign: object
    schedule: object


def finished_job(workspace, drafts) -> Job:
    system = Access.system(workspace)
    job = jobs.job_create(access=system, use_case_key="core.text", input={"prompt": "Write copy"})
    jobs.job_start(job=job, worker="w")
    return jobs.job_succeed(job=job, drafts=drafts, actor=SYSTEM)


def make_tenant(name: str) -> Tenant:
    workspace = WorkspaceFactory(slug=name, name=name.title())
    system = Access.system(workspace)
    safety_policy_update(access=system, banned_terms=["guaranteed cure"], competitor_names=["Rivalcola"])
    texts = ["Fresh bread daily.", "Fresh bread again.", "A guaranteed cure for all.", "Better than Rivalcola.", "Plain copy."]
    drafts = [ArtifactDraft(kind="text", variant_index=i, text=t, params={}, provenance=PROVENANCE) for i, t in enumerate(texts)]
    drafts.append(ArtifactDraft(kind="image", variant_index=len(texts), png=PNG, params={"prompt": "a loaf"}, provenance=PROVENANCE))
    job = finished_job(workspace, drafts)
    artifacts = {a.variant_index: a for a in job.artifacts.all()}
    jobs.artifacts_screen(artifact_ids=[a.pk for a in artifacts.values()])
    artifacts = {i: Artifact.objects.get(pk=a.pk) for i, a in artifacts.items()}
    admin = member(workspace, Role.ADMIN, f"{name}-admin")
    reviewer = access_of(admin, workspace)
    approved = jobs.artifact_approve(artifact=artifacts[0], access=reviewer)
    published = jobs.artifact_publish(artifact=jobs.artifact_approve(artifact=artifacts[1], access=reviewer), access=reviewer)
    _, token = api_key_create(access=system, name="cms", scopes=list(Scope.values))
    webhook = webhook_endpoint_create(access=system, url="http://127.0.0.1:9/hook", events=["artifact.published"])
    refreshed = {i: Artifact.objects.get(pk=a.pk) for i, a in artifacts.items()}
    campaign = campaign_create(access=system, use_case_key="core.text", rows=[{"prompt": f"Row {n}"} for n in range(2)])
    schedule = campaign_schedule_create(access=system, name="Weekly", use_case="core.text", input_rows=[{"prompt": "x"}])
    return Tenant(workspace=workspace, job=job, image=refreshed[5], approved=approved, published=published,
                  blocked=refreshed[2], flagged=refreshed[3], passed=refreshed[4], admin=admin,
                  viewer=member(workspace, Role.VIEWER, f"{name}-viewer"), token=token, webhook=webhook,
                  campaign=campaign, schedule=schedule)


@pytest.fixture
def tenants(db, settings):
    settings.PRESSROOM = {**settings.PRESSROOM, "WEBHOOK_ALLOW_PRIVATE": True}  # the CMS is on loopback here
    return make_tenant("alpha"), make_tenant("bravo")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def with_key(token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {token}"})
