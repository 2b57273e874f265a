"""A marketer and a reviewer in chromium, end to end through a real worker."""
import re

import pytest
from playwright.sync_api import expect
from pressroom.accounts.models import Role
from pressroom.audit.services import SYSTEM
from pressroom.jobs.models import Artifact, Job, WorkerHeartbeat
from pressroom.jobs.services import artifacts_screen
from pressroom.safety.services import safety_policy_update

from tests.factories import UserFactory, WorkspaceFactory, member
from pressroom.accounts.access import Access

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

JOB_TIMEOUT_MS = 240_000


@pytest.fixture
def team():
    workspace = WorkspaceFactory(name="Northwind Outdoor", slug="northwind")
    member(workspace, Role.EDITOR, "mara")
    member(workspace, Role.REVIEWER, "rita")
    member(workspace, Role.ADMIN, "ada")
    return workspace


def _forged_post(page, path: str):
    """What a user could send by hand, bypassing the page: the server must refuse it."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    return page.request.post(path, form={"comment": "forged"}, headers={"X-CSRFToken": token})


def test_marketer_creates_reviewer_approves_and_publishes(team, open_page, start_worker, screenshot):
    start_worker()
    marketer = open_page("mara")
    expect(marketer.get_by_role("heading", name="What do you need today?")).to_be_visible()
    screenshot(marketer, "catalogue")

    marketer.get_by_role("link", name="Start Ad copy").click()
    product = marketer.get_by_label("Product")
    product.fill("x")
    product.press("Tab")
    product.fill("")
    product.press("Tab")  # a required field just emptied is named (the page says which field was left)
    expect(marketer.locator("#err-product")).to_contain_text("Field required")
    product.fill("Trail running shoes")
    marketer.get_by_label("Description").fill("Light, grippy shoes for muddy trails.")
    marketer.get_by_label("search").check()
    variants = marketer.get_by_label("Variants")
    variants.fill("9")
    variants.press("Tab")  # leaving the field sends it for inline validation
    expect(marketer.locator("#err-variants")).to_contain_text("less than or equal to 4")
    screenshot(marketer, "form-validation")

    variants.fill("2")
    variants.press("Tab")
    expect(marketer.locator("#err-variants")).to_be_empty()
    marketer.get_by_role("button", name="Generate").click()
    marketer.wait_for_url(re.compile(r"/jobs/[0-9a-f-]+/$"))
    job_url = marketer.url
    marketer.evaluate("window.__notReloaded = true")

    # Progress arrives by polling; the page itself is never reloaded.
    expect(marketer.get_by_test_id("progress-percent")).to_have_text("100 %", timeout=JOB_TIMEOUT_MS)
    expect(marketer.get_by_test_id("job-status")).to_have_text("Succeeded")
    expect(marketer.get_by_test_id("artifact-status")).to_have_count(2)
    expect(marketer.get_by_test_id("artifact-status").first).not_to_have_text("Screening", timeout=60_000)
    expect(marketer.locator("#job-timeline")).to_contain_text("Job succeeded")  # refreshed in place too
    assert marketer.evaluate("window.__notReloaded") is True
    assert marketer.url == job_url
    screenshot(marketer, "job-results")

    # The worker reported itself and the model it holds, for the operators' status page.
    assert any("text-default" in heartbeat.loaded_models for heartbeat in WorkerHeartbeat.objects.all())

    job = Job.objects.get()
    first = Artifact.objects.filter(job=job).order_by("variant_index").first()
    assert first.status in ("passed", "flagged"), first.status

    # An editor sees no approve button, and a forged approve is refused by the server.
    expect(marketer.locator('[data-action="approve"]')).to_have_count(0)
    forged = _forged_post(marketer, f"/w/northwind/artifacts/{first.pk}/approve/")
    assert forged.status == 403
    first.refresh_from_db()
    assert first.status in ("passed", "flagged")

    reviewer = open_page("rita")
    reviewer.get_by_role("link", name="Review queue").click()
    expect(reviewer.locator(f'article[data-artifact="{first.pk}"]')).to_be_visible()
    screenshot(reviewer, "review-queue")

    card = reviewer.locator(f'article[data-artifact="{first.pk}"]')
    card.get_by_label("Approval comment").fill("On brand, ship it")
    card.get_by_role("button", name="Approve").click()
    expect(reviewer.locator(".message.success")).to_have_text("Approved.")
    reviewer.goto(job_url)
    card = reviewer.locator(f'article[data-artifact="{first.pk}"]')
    card.get_by_role("button", name="Publish").click()
    expect(reviewer.locator(".message.success")).to_have_text("Published.")
    expect(reviewer.locator(f'article[data-artifact="{first.pk}"]').get_by_test_id("artifact-status")).to_have_text("Published")

    timeline = reviewer.locator(".timeline")
    for label in ("Job created", "Job started", "Job succeeded", "Artifact created", "Artifact approved", "Artifact published"):
        expect(timeline).to_contain_text(label)
    expect(timeline).to_contain_text("On brand, ship it")
    reviewer.get_by_role("heading", name="Audit timeline").scroll_into_view_if_needed()
    screenshot(reviewer, "job-audit-timeline")
    first.refresh_from_db()
    assert first.status == "published"


def test_flagged_artifact_shows_its_highlighted_reason(team, open_page, screenshot):
    from pressroom.audit.services import Actor
    from pressroom.jobs import services as jobs
    from pressroom.plugins import ArtifactDraft, ModelProvenance

    safety_policy_update(access=Access.system(team), competitor_names=["Rivalcola"])
    job = jobs.job_create(access=Access.system(team), use_case_key="core.text", input={"prompt": "Write a tagline"})
    jobs.job_start(job=job, worker="test")
    provenance = ModelProvenance(alias="text-default", source="smollm2", revision="sha256:0", batch_id="b")
    text = "Crisper than Rivalcola and twice as cold."
    jobs.job_succeed(job=job, drafts=[ArtifactDraft(kind="text", variant_index=0, text=text, params={}, provenance=provenance)],
                     actor=Actor.worker("test"))
    artifacts_screen(artifact_ids=list(job.artifacts.values_list("pk", flat=True)))
    artifact = job.artifacts.get()
    assert artifact.status == "flagged"

    reviewer = open_page("rita")
    reviewer.get_by_role("link", name="Review queue").click()
    mark = reviewer.locator(f'article[data-artifact="{artifact.pk}"] mark.flagged')
    expect(mark).to_have_text("Rivalcola")
    expect(mark).to_have_attribute("title", re.compile("competitor", re.I))
    expect(reviewer.locator(f'article[data-artifact="{artifact.pk}"] .reasons')).to_contain_text(re.compile("competitor", re.I))
    reviewer.get_by_text("Safety scores").first.click()
    screenshot(reviewer, "flagged-artifact")

    reviewer.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing may overflow sideways
    wide = reviewer.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
        .map(el => el.tagName + '.' + el.className)""")
    assert reviewer.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), wide[:10]
    screenshot(reviewer, "review-queue-phone")
    reviewer.set_viewport_size({"width": 1280, "height": 860})

    reviewer.get_by_role("link", name="Details, scores and audit").click()
    expect(reviewer.get_by_role("heading", name="Edit, then approve")).to_be_visible()
    screenshot(reviewer, "artifact-detail")


def test_admin_pages(team, open_page, screenshot):
    admin = open_page("ada")
    admin.get_by_role("link", name="Brand & safety").click()
    admin.get_by_label("Tone").fill("warm, confident, plain-spoken")
    admin.get_by_label("Words to avoid").fill("cheap\nbargain")
    admin.get_by_role("button", name="Save brand voice").click()
    expect(admin.locator(".message.success")).to_contain_text("Brand voice saved")
    screenshot(admin, "brand-settings")

    admin.get_by_role("link", name="API keys").click()
    admin.get_by_label("Name").fill("Headless CMS")
    admin.get_by_label("Publish artifacts").check()
    admin.get_by_role("button", name="Create key").click()
    expect(admin.locator("#new-token")).to_contain_text("pr_")
    screenshot(admin, "api-keys")

    UserFactory(username="olga", is_staff=True, is_superuser=True)
    operator = open_page("olga")
    operator.goto("/admin/status/")
    expect(operator.get_by_role("heading", name="Models")).to_be_visible()
    expect(operator.locator("#content-main")).to_contain_text("text-default")
    screenshot(operator, "admin-status")
