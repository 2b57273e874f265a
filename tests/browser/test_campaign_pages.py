"""A marketer runs a campaign in chromium: a bad file gets the per-row report, a good one
creates the campaign, whose progress bar moves by polling as its jobs finish, and a
reviewer approves what passed in bulk."""
import re

import pytest
from playwright.sync_api import expect

from pressroom.accounts.models import Role
from pressroom.campaigns.models import Campaign
from pressroom.jobs import services as job_services
from pressroom.jobs.models import Artifact
from pressroom.jobs.services import artifacts_screen
from pressroom.plugins import ArtifactDraft, ModelProvenance

from tests.factories import WorkspaceFactory, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GOOD_CSV = "product,channels,offer\nTrail X2,search; social,20% off\nRoad Y,display,\nHiker Z,search,Free socks\n"
BAD_CSV = "product,channels\nTrail X2,search\n,social\nRoad Y,billboards\n"


@pytest.fixture
def team():
    workspace = WorkspaceFactory(name="Northwind Outdoor", slug="northwind")
    member(workspace, Role.EDITOR, "mara")
    member(workspace, Role.REVIEWER, "rita")
    return workspace


def _csv(name: str, text: str) -> dict:
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode()}


def _finish_all(campaign: Campaign) -> None:
    """What a worker would do for each row: one text, then screening."""
    provenance = ModelProvenance(alias="text-default", source="/m", revision="sha256:x")
    for job in campaign.jobs.order_by("campaign_row"):
        job_services.job_start(job=job, worker="browser-test")
        draft = ArtifactDraft(kind="text", variant_index=0, text=f"Grip the trail, row {job.campaign_row}.", params={},
                              provenance=provenance)
        job_services.job_succeed(job=job, drafts=[draft])
    artifacts_screen(artifact_ids=list(Artifact.objects.filter(job__campaign=campaign).values_list("pk", flat=True)))


def test_upload_report_progress_and_bulk_review(team, open_page, screenshot):
    marketer = open_page("mara")
    marketer.get_by_role("navigation", name="Workspace").get_by_role("link", name="Campaigns").click()
    marketer.get_by_role("link", name="New campaign").click()
    marketer.get_by_label("Use case").select_option("marketing.ad_copy")
    # The expected header follows the chosen use case (swapped in by htmx).
    expect(marketer.get_by_test_id("csv-header")).to_have_text("variants,seed,product,description,offer,channels")

    marketer.get_by_label("Name").fill("Spring shoes")
    marketer.get_by_label("Rows file").set_input_files(_csv("shoes.csv", BAD_CSV))
    marketer.get_by_role("button", name="Create campaign").click()
    report = marketer.get_by_test_id("row-errors")
    expect(report).to_be_visible()
    expect(report.locator("tbody tr")).to_have_count(2)
    expect(report).to_contain_text("product")
    expect(report).to_contain_text("channels.0")
    expect(marketer.get_by_label("Name")).to_have_value("Spring shoes")  # the form keeps what was typed
    expect(marketer.get_by_label("Use case")).to_have_value("marketing.ad_copy")
    assert not Campaign.objects.exists()
    screenshot(marketer, "campaign-row-report")

    marketer.get_by_label("Rows file").set_input_files(_csv("shoes.csv", GOOD_CSV))
    marketer.get_by_role("button", name="Create campaign").click()
    marketer.wait_for_url(re.compile(r"/campaigns/[0-9a-f-]+/$"))
    expect(marketer.get_by_role("progressbar", name="Campaign progress")).to_be_visible()
    expect(marketer.get_by_test_id("count-queued")).to_have_text("3")
    expect(marketer.get_by_test_id("campaign-eta")).to_have_text("estimating…")
    screenshot(marketer, "campaign-progress")

    marketer.evaluate("window.__notReloaded = true")
    _finish_all(Campaign.objects.get())
    # The live panel polls: the bar fills and the results reload without a page load.
    expect(marketer.get_by_test_id("campaign-status")).to_have_text("Finished", timeout=20_000)
    expect(marketer.get_by_test_id("count-done")).to_have_text("3")
    expect(marketer.locator("#campaign-results")).to_contain_text("Grip the trail, row 3.")
    assert marketer.evaluate("window.__notReloaded") is True

    reviewer = open_page("rita")
    reviewer.goto(marketer.url)
    reviewer.get_by_label("Select row 1, variant 1").check()
    reviewer.get_by_role("button", name="Approve selected").click()
    expect(reviewer.get_by_text("Approved 1 result.")).to_be_visible()
    reviewer.get_by_role("button", name=re.compile(r"Approve all that passed \(2\)")).click()
    expect(reviewer.get_by_text("Approved 2 results.")).to_be_visible()
    screenshot(reviewer, "campaign-bulk-review")
    assert set(Artifact.objects.values_list("status", flat=True)) == {"approved"}

    reviewer.get_by_role("navigation", name="Workspace").get_by_role("link", name="Campaigns").click()
    expect(reviewer.locator("#campaigns")).to_contain_text("Spring shoes")
    screenshot(reviewer, "campaigns")
