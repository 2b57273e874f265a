"""Issue 11 in chromium: variant cards that say what they are for and the limits they use,
recommendations as a table per customer, the first-run page, and a quality-flagged variant.
Jobs are finished through the real services with data shaped like the use cases' output."""
import re

import pytest
from playwright.sync_api import expect
from pressroom.accounts.access import Access
from pressroom.accounts.models import Role, Workspace
from pressroom.audit.services import Actor
from pressroom.jobs import services as jobs
from pressroom.jobs.services import artifacts_screen
from pressroom.plugins import ArtifactDraft, ModelProvenance

from tests.factories import UserFactory, WorkspaceFactory, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROVENANCE = ModelProvenance(alias="text-default", source="smollm2", revision="sha256:0", batch_id="b")


@pytest.fixture
def team():
    workspace = WorkspaceFactory(name="Northwind Outdoor", slug="northwind")
    member(workspace, Role.EDITOR, "mara")
    member(workspace, Role.REVIEWER, "rita")
    return workspace


def _finished_job(workspace, use_case_key: str, input: dict, outputs: list[tuple[str, dict]]):
    """A job as the worker leaves it: succeeded with these (text, data) drafts, then screened."""
    job = jobs.job_create(access=Access.system(workspace), use_case_key=use_case_key, input=input)
    jobs.job_start(job=job, worker="test")
    drafts = [ArtifactDraft(kind="text", variant_index=i, text=text, params={}, provenance=PROVENANCE, data=data)
              for i, (text, data) in enumerate(outputs)]
    jobs.job_succeed(job=job, drafts=drafts, actor=Actor.worker("test"))
    artifacts_screen(artifact_ids=list(job.artifacts.values_list("pk", flat=True)))
    return job


def _ad(channel: str, variant: int, headline: str, body: str, cta: str, limits: dict) -> tuple[str, dict]:
    data = {"channel": channel, "variant": variant, "headline": headline, "body": body, "cta": cta,
            "limits": limits, "regenerated": [], "trimmed": []}
    return f"Headline: {headline}\nBody: {body}\nCTA: {cta}", data


def test_ad_copy_cards_say_channel_variant_and_limits_used(team, open_page, screenshot):
    search, social = {"headline": 30, "body": 90, "cta": 15}, {"headline": 40, "body": 125, "cta": 20}
    job = _finished_job(team, "marketing.ad_copy",
                        {"product": "TrailRunner X2 trail shoes", "channels": ["search", "social"], "variants": 2}, [
        _ad("search", 0, "TrailRunner X2: grip on mud", "Light trail shoes that hold on wet roots and rock.", "Shop now", search),
        _ad("search", 1, "Run muddy trails with grip", "The TrailRunner X2 keeps you steady when the path turns wet.", "See the X2", search),
        _ad("social", 0, "Your new favourite trail shoe", "Grip, cushioning and a light build for long muddy runs.", "Find your size", social),
        _ad("social", 1, "Muddy trail? TrailRunner X2.", "Built for wet roots, loose rock and every puddle between.", "Shop the X2", social),
    ])

    page = open_page("mara")
    page.goto(f"/w/northwind/jobs/{job.pk}/")
    labels = page.get_by_test_id("variant-label")
    expect(labels).to_have_text(["Search · Variant A", "Search · Variant B", "Social · Variant A", "Social · Variant B"])
    first = page.locator("article.variant").first
    expect(first.get_by_test_id("limits-used").locator(".pill")).to_have_text(
        ["Headline 27/30 chars", "Body 50/90 chars", "CTA 8/15 chars"])
    expect(page.locator("article.variant").nth(2).get_by_test_id("limits-used")).to_contain_text("Headline 29/40 chars")
    screenshot(page, "labelled-variants")


def test_social_cards_name_the_platform(team, open_page):
    post = "Spring trail meetup on Saturday: bring friends and muddy shoes.\n\n#TrailRunning"
    data = {"post": post.split("\n\n")[0], "limits": {"post": 264}, "hashtags": ["#TrailRunning"], "length": len(post),
            "platform_limit": 280, "regenerated": [], "trimmed": []}
    job = _finished_job(team, "marketing.social_post", {"topic": "Spring trail meetup", "platforms": ["x", "instagram"],
                                                         "hashtags": ["trail running"], "variants": 1},
                        [(post, {**data, "platform": "x", "variant": 0}), (post, {**data, "platform": "instagram", "variant": 0})])
    page = open_page("mara")
    page.goto(f"/w/northwind/jobs/{job.pk}/")
    expect(page.get_by_test_id("variant-label")).to_have_text(["X · Variant A", "Instagram · Variant A"])
    expect(page.get_by_test_id("limits-used").first).to_contain_text(f"Whole post {len(post)}/280 chars")


CATALOG = [{"id": "p1", "name": "Trail shoes", "category": "running"},
           {"id": "p2", "name": "Rain jacket", "category": "outdoor"},
           {"id": "p3", "name": "Merino socks", "category": "running"},
           {"id": "p4", "name": "Head torch", "category": "outdoor"}]
CUSTOMERS = [{"id": "c1", "name": "Ana", "events": [{"product_id": "p1", "type": "purchase", "at": "2024-05-01T10:00:00Z"}]},
             {"id": "c2", "name": "Ben", "events": [{"product_id": "p2", "type": "view", "at": "2024-05-02T10:00:00Z"}]}]


def _recommendation(customer_id: str, ranked: list[tuple[str, str, float, float, float]], message: str) -> tuple[str, dict]:
    recommendations = [{"product_id": pid, "name": name, "score": score, "similarity": similarity, "popularity": popularity}
                       for pid, name, score, similarity, popularity in ranked]
    names = [r["name"] for r in recommendations]
    data = {"customer_id": customer_id, "recommendations": recommendations, "named_items": names, "unknown_items": [],
            "missing_items": [], "regenerated": False, "all_named_items_recommended": True}
    return message, data


def test_recommendations_show_a_ranked_table_per_customer_beside_the_message(team, open_page, screenshot):
    job = _finished_job(team, "recommendation.personalised", {"catalog": CATALOG, "customers": CUSTOMERS, "top_k": 2}, [
        _recommendation("c1", [("p3", "Merino socks", 0.912, 0.95, 0.76), ("p4", "Head torch", 0.655, 0.62, 0.79)],
                        'Hi Ana, after those trail shoes you will love our "Merino socks" and a "Head torch" for early runs.'),
        _recommendation("c2", [("p4", "Head torch", 0.801, 0.78, 0.89), ("p1", "Trail shoes", 0.702, 0.66, 0.86)],
                        'Hi Ben, pair that rain jacket with a "Head torch" and our "Trail shoes" for wet evenings out.'),
    ])

    page = open_page("mara")
    page.goto(f"/w/northwind/jobs/{job.pk}/")
    tables = page.get_by_test_id("recommendation")
    expect(tables).to_have_count(2)
    ana = page.locator('[data-testid="recommendation"][data-customer="c1"]')
    expect(ana.locator("caption")).to_have_text("Recommended for Ana (c1)")
    rows = ana.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td")).to_have_text(["1", re.compile("Merino socks\\s+p3"), "0.912", re.compile("like their history \\(0.95\\)", re.I)])
    expect(rows.nth(1).locator("td").nth(1)).to_contain_text("Head torch")
    expect(ana.locator(".recommendation-message")).to_contain_text('"Merino socks"')
    ben = page.locator('[data-testid="recommendation"][data-customer="c2"]')
    expect(ben.locator("tbody tr").first).to_contain_text("Head torch")
    expect(page.get_by_test_id("variant-label")).to_have_text(["Ana (c1)", "Ben (c2)"])
    # The message sits beside its table on a desktop screen, not under it.
    table_box, message_box = ana.locator("table").bounding_box(), ana.locator(".recommendation-message").bounding_box()
    assert message_box["x"] >= table_box["x"] + table_box["width"] - 1, (table_box, message_box)
    screenshot(page, "recommendation-table")


def test_a_superuser_without_a_workspace_creates_the_first_one(open_page, screenshot):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    assert not Workspace.objects.exists()

    page = open_page("root")
    expect(page).to_have_url(re.compile(r"/first-run/$"))
    expect(page.get_by_role("heading", name="Welcome to Pressroom")).to_be_visible()
    expect(page.get_by_role("link", name="Add a workspace there")).to_have_attribute("href", re.compile("/admin/"))
    page.get_by_label("Name").fill("Acme Marketing")
    screenshot(page, "first-run")
    page.get_by_role("button", name="Create workspace").click()

    expect(page).to_have_url(re.compile(r"/w/acme-marketing/$"))
    expect(page.get_by_role("heading", name="What do you need today?")).to_be_visible()
    workspace = Workspace.objects.get()
    assert workspace.name == "Acme Marketing"
    assert workspace.memberships.get(user__username="root").role == Role.ADMIN


def test_a_quality_flagged_variant_shows_its_highlighted_reason(team, open_page, screenshot):
    post = "Join our spring trail meetup this Saturday! Signed, [Your Name]\n\n#TrailRunning"
    data = {"platform": "instagram", "variant": 0, "post": post.split("\n\n")[0], "limits": {"post": 2185},
            "hashtags": ["#TrailRunning"], "length": len(post), "platform_limit": 2200, "regenerated": [], "trimmed": []}
    job = _finished_job(team, "marketing.social_post", {"topic": "Spring trail meetup this Saturday", "platforms": ["instagram"],
                                                         "hashtags": ["trail running"], "variants": 1}, [(post, data)])
    artifact = job.artifacts.get()
    assert artifact.status == "flagged"
    assert artifact.verdicts.filter(check_name="quality_placeholder").exclude(decision="pass").exists()

    reviewer = open_page("rita")
    reviewer.get_by_role("link", name="Review queue").click()
    card = reviewer.locator(f'article[data-artifact="{artifact.pk}"]')
    expect(card.get_by_test_id("variant-label")).to_have_text("Instagram · Variant A")
    mark = card.locator("mark.flagged")
    expect(mark).to_have_text("[Your Name]")
    expect(mark).to_have_attribute("title", re.compile("placeholder", re.I))
    expect(card.locator(".reasons")).to_contain_text(re.compile("placeholder", re.I))
    expect(card.get_by_test_id("artifact-status")).to_have_text("Flagged")
    screenshot(reviewer, "quality-flagged")
