"""A workspace that requires a disclaimer gets ad copy with it written in, and the brand
check, run by the screening every artifact goes through, then passes it."""
import pytest

from pressroom.accounts.access import Access
from pressroom.audit.services import SYSTEM
from pressroom.jobs import services as job_services
from pressroom.jobs.services import artifacts_screen
from pressroom.plugins.testing import FakeRuntime, make_context, run_use_case
from pressroom.safety.services import safety_policy_get
from pressroom_marketing.usecases.ad_copy import AdCopy
from pressroom_workers.executor import JobBatchExecutor, required_disclaimers

AD = {"product": "Trail Runner 2", "description": "waterproof running shoes", "channels": ["search"], "variants": 1, "seed": 7}
COPY = ["Run further", "Light waterproof shoes that grip on every trail you run, in rain, mud or snow", "Shop now"]


def require_terms(workspace):
    policy = safety_policy_get(workspace=workspace)
    policy.required_disclaimers = {"marketing.ad_copy": ["Terms apply."]}
    policy.save()


def screened_ad(workspace, ctx):
    job = job_services.job_create(access=Access.system(workspace), use_case_key=AdCopy.key, input=AD)
    job_services.job_start(job=job, worker="test-worker")
    drafts = run_use_case(AdCopy, AD, runtime=FakeRuntime(lambda prompt, i: COPY[i % 3]), ctx=ctx)
    job_services.job_succeed(job=job, drafts=drafts, actor=SYSTEM)
    (artifact,) = artifacts_screen(artifact_ids=list(job.artifacts.values_list("pk", flat=True)))
    artifact.refresh_from_db()
    return artifact


@pytest.mark.django_db
def test_the_run_context_carries_the_policy_disclaimers_of_the_use_case(workspace):
    assert required_disclaimers(workspace.pk, AdCopy.key) == ()
    require_terms(workspace)
    assert required_disclaimers(workspace.pk, AdCopy.key) == ("Terms apply.",)
    assert required_disclaimers(workspace.pk, "marketing.social_post") == ()


@pytest.mark.django_db
def test_ad_copy_with_the_disclaimer_written_in_passes_the_brand_check(workspace):
    require_terms(workspace)
    artifact = screened_ad(workspace, make_context(required_disclaimers=required_disclaimers(workspace.pk, AdCopy.key)))
    assert artifact.data["body"].endswith(" Terms apply.") and len(artifact.data["body"]) <= 90
    brand = artifact.verdicts.get(check_name="brand")
    assert brand.decision == "pass" and brand.scores["missing_disclaimers"] == 0


@pytest.mark.django_db
def test_ad_copy_without_it_is_flagged_with_the_reason(workspace):
    require_terms(workspace)
    artifact = screened_ad(workspace, make_context())  # a context that does not carry the policy
    brand = artifact.verdicts.get(check_name="brand")
    assert artifact.status == "flagged" and brand.decision == "flag"
    assert brand.reason == "missing required disclaimer: 'Terms apply.'"


@pytest.mark.models
def test_the_real_worker_path_writes_the_disclaimer_in(transactional_db, workspace):
    """The executor fills the run context from the policy; the offline model writes the copy."""
    from pressroom_workers.runtime import ModelRuntime

    require_terms(workspace)
    job = job_services.job_create(access=Access.system(workspace), use_case_key=AdCopy.key, input=AD)
    report = JobBatchExecutor(ModelRuntime(), worker_name="test-worker").run([str(job.pk)])
    assert report.succeeded == [str(job.pk)], report
    (artifact,) = job.artifacts.all()
    assert "Terms apply." in artifact.data["body"] and len(artifact.data["body"]) <= 90
    assert artifact.generation_params["disclaimers_added"] == ["Terms apply."]
    assert artifact.verdicts.get(check_name="brand").decision == "pass"
