"""A banner's typeset copy is screened as text: the brand rules verify the workspace's
required disclaimer on it, and the prompt the background was drawn from is not held to it."""
import pytest
from django.urls import reverse

from pressroom.accounts.access import Access
from pressroom.audit.services import SYSTEM
from pressroom.jobs import services as job_services
from pressroom.jobs.models import Artifact
from pressroom.plugins.testing import make_context, run_use_case
from pressroom.safety.registry import all_checks
from pressroom.safety.services import safety_policy_update
from pressroom_design.usecases.banner import Banner

pytestmark = pytest.mark.django_db

BANNER = {"product": "Trail shoes", "headline": "Run further this spring", "cta": "Shop now", "preset": "medium_rectangle"}
MISSING = "missing required disclaimer: 'Terms apply.'"


@pytest.fixture
def terms_apply(workspace):
    safety_policy_update(access=Access.system(workspace), required_disclaimers={"design.banner": ["Terms apply."]})


def screened_banner(workspace, disclaimers: tuple[str, ...]) -> Artifact:
    """A banner job run by the real use case (on the fake runtime), stored and screened."""
    job = job_services.job_create(access=Access.system(workspace), use_case_key="design.banner", input=BANNER)
    job_services.job_start(job=job, worker="test-worker")
    drafts = run_use_case(Banner, BANNER, ctx=make_context(required_disclaimers=disclaimers, settings={"max_generation_side": 64}))
    job_services.job_succeed(job=job, drafts=drafts, actor=SYSTEM)
    (artifact,) = job.artifacts.all()
    job_services.artifacts_screen(artifact_ids=[artifact.pk])
    return Artifact.objects.get(pk=artifact.pk)


def brand_reasons(artifact: Artifact) -> list[str]:
    return [v.reason for v in artifact.verdicts.filter(check_name="brand")]


def test_a_banner_with_the_disclaimer_typeset_passes_the_brand_rule(workspace, terms_apply):
    artifact = screened_banner(workspace, ("Terms apply.",))
    assert artifact.text.endswith("\nTerms apply.")
    # Two text subjects (typeset copy and image prompt): neither misses the disclaimer.
    assert len(brand_reasons(artifact)) == 2 and not any(brand_reasons(artifact))
    assert artifact.status == "passed", [(v.check_name, v.reason) for v in artifact.verdicts.all()]
    quality = {check.name for check in all_checks() if check.stage == "quality"}
    assert quality and not artifact.verdicts.filter(check_name__in=quality).exists()  # copy checks are for text artifacts


def test_a_banner_without_the_disclaimer_is_flagged_and_the_card_says_why(client, workspace, terms_apply, reviewer):
    artifact = screened_banner(workspace, ())  # a use case that ignored the policy
    assert artifact.status == "flagged"
    assert brand_reasons(artifact).count(MISSING) == 1  # the typeset copy, not the prompt
    client.force_login(reviewer)
    card = client.get(reverse("dashboard:artifact", args=[workspace.slug, artifact.pk])).content.decode()
    card = card[card.index('aria-label="Why it was flagged"'):]
    assert MISSING.replace("'", "&#x27;") in card[: card.index("</ul>")]


def test_screening_reads_the_typeset_copy_without_quality_checks(workspace, terms_apply):
    from pressroom.jobs.services.artifacts import artifact_subjects

    job = job_services.job_create(access=Access.system(workspace), use_case_key="design.banner", input=BANNER)
    job_services.job_start(job=job, worker="test-worker")
    job_services.job_succeed(job=job, drafts=run_use_case(Banner, BANNER, ctx=make_context(required_disclaimers=("Terms apply.",))))
    labels = {s.label: s for s in artifact_subjects(job.artifacts.get())}
    assert set(labels) == {"image", "typeset text", "image prompt"}
    assert labels["typeset text"].text == "Run further this spring\nShop now\nTerms apply."
    assert labels["image prompt"].is_model_input and not labels["typeset text"].is_model_input
