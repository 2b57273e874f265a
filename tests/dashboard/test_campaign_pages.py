"""Campaign pages through Django's test client: an upload creates a campaign or shows the
per-row report and creates nothing; roles and workspaces are enforced on the server; bulk
approval, cancel and exports go through the campaign services and selectors."""
import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from pressroom.accounts.access import Access
from pressroom.audit.models import AuditEvent
from pressroom.campaigns.examples import example_csv, example_row
from pressroom.campaigns.models import Campaign
from pressroom.campaigns.services import campaign_create
from pressroom.jobs import services as job_services
from pressroom.jobs.models import Artifact, Job
from pressroom.jobs.services import artifacts_screen
from pressroom.jobs.validation import job_input_validate
from pressroom.plugins import ArtifactDraft, ModelProvenance
from pressroom.plugins.selectors import use_cases_offered
from pressroom.safety.services import safety_policy_update
from pressroom.usage.services import quota_set

from tests.factories import MembershipFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

# Inputs nested deeper than a cell can hold plainly, with rules across fields that the
# schema alone does not tell (exactly one of catalog or catalog_csv): upload JSON Lines.
NOT_EXPRESSIBLE_AS_EXAMPLE_CSV = {"recommendation.personalised"}


def url(name, workspace, *args):
    return reverse(f"dashboard:{name}", args=[workspace.slug, *args])


def upload(text: str, name: str = "shops.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def shops_csv(count: int) -> str:
    return "prompt,variants\n" + "".join(f"Write a tagline for shop number {n},1\n" for n in range(count))


def make_campaign(workspace, count=3, name="Shops"):
    rows = [{"prompt": f"Write a tagline for shop number {n}"} for n in range(count)]
    return campaign_create(access=Access.system(workspace), use_case_key="core.text", rows=rows, name=name)


def run(campaign, texts):
    """Each row's job succeeds with one text, then it is screened, as a worker leaves it."""
    provenance = ModelProvenance(alias="text-default", source="/m", revision="sha256:x")
    for job in campaign.jobs.order_by("campaign_row"):
        job_services.job_start(job=job, worker="w")
        job_services.job_succeed(job=job, drafts=[ArtifactDraft(kind="text", variant_index=0, text=texts[job.campaign_row - 1],
                                                                params={}, provenance=provenance)])
    artifacts_screen(artifact_ids=list(Artifact.objects.filter(job__campaign=campaign).values_list("pk", flat=True)))


def artifact_of(campaign, row):
    return Artifact.objects.get(job__campaign=campaign, job__campaign_row=row)


# -- creating ------------------------------------------------------------------------
def test_a_csv_upload_creates_the_campaign_and_opens_it(client, workspace, editor):
    client.force_login(editor)
    response = client.post(url("campaign_new", workspace), {"use_case": "core.text", "name": "Shop taglines", "priority": "7",
                                                            "file": upload(shops_csv(4))})
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == url("campaign", workspace, campaign.pk)
    assert (campaign.name, campaign.priority, campaign.total_jobs, campaign.source) == ("Shop taglines", 7, 4, "upload")
    assert campaign.origin == {"file": "shops.csv", "format": "csv"}
    assert campaign.created_by == editor
    page = client.get(response["Location"]).content.decode()
    assert "4 jobs queued" in page and 'data-testid="count-queued">4<' in page and "estimating…" in page


def test_a_jsonl_upload_is_read_by_its_file_name(client, workspace, editor):
    client.force_login(editor)
    lines = '{"prompt": "One"}\n{"prompt": "Two"}\n'
    response = client.post(url("campaign_new", workspace), {"use_case": "core.text", "file": upload(lines, "rows.jsonl")})
    assert response.status_code == 302
    assert Campaign.objects.get().origin["format"] == "jsonl"


def test_a_bad_upload_shows_the_row_report_keeps_the_form_and_creates_nothing(client, workspace, editor):
    client.force_login(editor)
    text = "product,channels,variants\nTrail X2,search,1\n,social,9\nRoad Y,billboards,1\n"
    response = client.post(url("campaign_new", workspace), {"use_case": "marketing.ad_copy", "name": "Shoes", "priority": "4",
                                                            "file": upload(text)})
    assert response.status_code == 400
    report = response.context["report"]
    assert {(e.row, e.field) for e in report["errors"]} == {(2, "product"), (2, "variants"), (3, "channels.0")}
    assert report["total"] == 3 and report["rows"] == 2
    page = response.content.decode()
    assert 'data-testid="row-errors"' in page and "<td>2</td><td><code>variants</code></td>" in page
    assert "Value error" not in page
    assert 'value="Shoes"' in page and 'value="4"' in page
    assert '<option value="marketing.ad_copy" selected>' in page
    assert not Campaign.objects.exists() and not Job.objects.exists()
    assert not AuditEvent.objects.filter(action__in=("campaign.created", "job.created")).exists()


def test_the_report_shows_at_most_the_first_thousand_problems_with_the_total(client, workspace, editor):
    client.force_login(editor)
    text = "prompt,variants\n" + "x,0\n" * 1200
    response = client.post(url("campaign_new", workspace), {"use_case": "core.text", "file": upload(text)})
    report = response.context["report"]
    assert len(report["errors"]) == 1000 and report["total"] == 1200
    assert "the first 1000 are shown" in response.content.decode()
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("name, text, message", [
    ("rows.txt", "prompt\nHello\n", "Upload a .csv or .jsonl file"),
    ("empty.csv", "\n\n", "The file is empty."),
    ("dup.csv", "prompt,prompt\na,b\n", "repeated column prompt"),
])
def test_a_file_that_cannot_be_read_is_a_message_on_the_file_field(client, workspace, editor, name, text, message):
    client.force_login(editor)
    response = client.post(url("campaign_new", workspace), {"use_case": "core.text", "file": upload(text, name)})
    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors["file"])
    assert not Campaign.objects.exists()


def test_a_campaign_over_the_quota_is_a_form_error_and_creates_nothing(client, workspace, editor):
    quota_set(access=Access.system(workspace), jobs_per_day=3)
    client.force_login(editor)
    response = client.post(url("campaign_new", workspace), {"use_case": "core.text", "file": upload(shops_csv(5))})
    assert response.status_code == 429
    assert "Quota exceeded" in response.context["form"].non_field_errors()[0]
    assert not Campaign.objects.exists() and not Job.objects.exists()


def test_a_viewer_cannot_create_a_campaign(client, workspace, viewer):
    client.force_login(viewer)
    assert client.get(url("campaign_new", workspace)).status_code == 403
    response = client.post(url("campaign_new", workspace), {"use_case": "core.text", "file": upload(shops_csv(2))})
    assert response.status_code == 403
    assert not Campaign.objects.exists()
    assert "New campaign" not in client.get(url("campaigns", workspace)).content.decode()


def test_a_turned_off_plugin_is_not_offered(client, workspace, editor):
    workspace.disabled_plugins = ["marketing"]
    workspace.save()
    client.force_login(editor)
    page = client.get(url("campaign_new", workspace)).content.decode()
    assert 'value="core.text"' in page and 'value="marketing.ad_copy"' not in page
    response = client.post(url("campaign_new", workspace), {"use_case": "marketing.ad_copy", "file": upload("product\nX\n")})
    assert response.status_code == 400 and not Campaign.objects.exists()


def test_the_columns_of_the_chosen_use_case_are_shown_with_required_ones_marked(client, workspace, editor):
    client.force_login(editor)
    page = client.get(url("campaign_new", workspace) + "?use_case=marketing.ad_copy").content.decode()
    assert '<code data-testid="csv-header">variants,seed,product,description,offer,channels</code>' in page
    partial = client.get(url("campaign_columns", workspace), {"use_case": "marketing.social_post"}).content.decode()
    assert "topic,details,platforms,hashtags" in partial
    assert '<code>platforms</code> <span class="req"' in partial and '<code>hashtags</code></th>' in partial


def test_the_example_csv_of_every_offered_use_case_round_trips(client, workspace, editor):
    """Uploading a use case's own example creates a campaign with the example's values."""
    client.force_login(editor)
    use_cases = use_cases_offered(workspace=workspace)
    assert len(use_cases) > 5
    for use_case in use_cases:
        response = client.get(url("campaign_example", workspace, use_case.key))
        assert response["Content-Type"].startswith("text/csv")
        assert f"campaign-example-{use_case.key}.csv" in response["Content-Disposition"]
        text = response.content.decode()
        assert text == example_csv(use_case)
        created = client.post(url("campaign_new", workspace), {"use_case": use_case.key, "file": upload(text, "example.csv")})
        campaign = Campaign.objects.filter(use_case=use_case.key).first()
        if use_case.key in NOT_EXPRESSIBLE_AS_EXAMPLE_CSV:
            assert created.status_code == 400 and campaign is None, use_case.key
            continue
        assert created.status_code == 302, (use_case.key, created.context and created.context["report"])
        # Every value of the example survived the trip through the CSV cells.
        assert campaign.jobs.get().input == job_input_validate(use_case=use_case, raw_input=example_row(use_case)), use_case.key


# -- reading -------------------------------------------------------------------------
def test_the_list_shows_newest_first_with_a_progress_bar(client, workspace, viewer):
    older, newer = make_campaign(workspace, 2, "Older"), make_campaign(workspace, 4, "Newer")
    run(older, ["One", "Two"])
    client.force_login(viewer)
    response = client.get(url("campaigns", workspace))
    page = response.content.decode()
    assert page.index("Newer") < page.index("Older")
    assert 'class="segment segment-done" style="width: 100.00%"' in page
    assert 'class="segment segment-queued" style="width: 100.00%"' in page
    assert "Finished" in page and "Running" in page
    assert [c.pk for c, *_ in response.context["rows"]] == [newer.pk, older.pk]


def test_the_list_is_paginated(client, workspace, viewer):
    for n in range(22):
        make_campaign(workspace, 1, f"Campaign {n}")
    client.force_login(viewer)
    first = client.get(url("campaigns", workspace))
    assert len(first.context["rows"]) == 20 and "Page 1 of 2" in first.content.decode()
    assert len(client.get(url("campaigns", workspace), {"page": 2}).context["rows"]) == 2


def test_another_workspace_s_campaign_is_not_found(client, workspace, editor):
    theirs = make_campaign(WorkspaceFactory(), 1)
    client.force_login(editor)
    for name in ("campaign", "campaign_live"):
        assert client.get(url(name, workspace, theirs.pk)).status_code == 404
    assert client.get(url("campaign_export", workspace, theirs.pk, "csv")).status_code == 404
    assert client.post(url("campaign_cancel", workspace, theirs.pk)).status_code == 404
    assert client.get(url("campaigns", workspace)).context["rows"] == []
    # A member of both workspaces, in the wrong one's URL, gets the same answer.
    MembershipFactory(workspace=theirs.workspace, user=editor, role="editor")
    assert client.get(url("campaign", workspace, theirs.pk)).status_code == 404
    assert client.get(url("campaign", theirs.workspace, theirs.pk)).status_code == 200


def test_the_live_panel_polls_until_the_campaign_finishes(client, workspace, viewer):
    campaign = make_campaign(workspace, 2)
    client.force_login(viewer)
    live = client.get(url("campaign_live", workspace, campaign.pk))
    assert live.status_code == 200 and 'hx-trigger="every 3s"' in live.content.decode()
    run(campaign, ["One", "Two"])
    live = client.get(url("campaign_live", workspace, campaign.pk))
    assert live.status_code == 286 and live["HX-Trigger"] == "campaign-finished"
    assert "Finished" in live.content.decode() and "hx-trigger" not in live.content.decode()


def test_results_are_filtered_and_paginated_by_row(client, workspace, reviewer):
    safety_policy_update(access=Access.system(workspace), competitor_names=["Acme"], banned_terms=["miracle cure"])
    campaign = make_campaign(workspace, 60)
    texts = [f"Fresh bread number {n}" for n in range(60)]
    texts[1], texts[2] = "Better than Acme bread.", "A miracle cure of a loaf."
    run(campaign, texts)
    client.force_login(reviewer)
    first = client.get(url("campaign", workspace, campaign.pk))
    assert [r.job.campaign_row for r in first.context["rows"]] == list(range(1, 51))
    page = first.content.decode()
    assert "Fresh bread number 0" in page and "Better than Acme bread." in page
    assert f'value="{artifact_of(campaign, 2).pk}"' in page  # flagged: may be ticked
    assert f'value="{artifact_of(campaign, 3).pk}"' not in page  # blocked: never
    second = client.get(url("campaign", workspace, campaign.pk), {"page": 2})
    assert [r.job.campaign_row for r in second.context["rows"]] == list(range(51, 61))
    flagged = client.get(url("campaign", workspace, campaign.pk), {"status": "flagged"})
    assert [r.job.campaign_row for r in flagged.context["rows"]] == [2]
    assert "Acme" in flagged.content.decode()
    blocked = client.get(url("campaign", workspace, campaign.pk), {"status": "blocked"})
    assert [r.job.campaign_row for r in blocked.context["rows"]] == [3]
    assert client.get(url("campaign", workspace, campaign.pk), {"status": "failed"}).context["rows"] == []


def test_a_failed_job_shows_in_the_failed_filter(client, workspace, viewer):
    campaign = make_campaign(workspace, 2)
    job = campaign.jobs.get(campaign_row=2)
    job_services.job_start(job=job, worker="w")
    job_services.job_fail(job=job, error="model exploded")
    client.force_login(viewer)
    response = client.get(url("campaign", workspace, campaign.pk), {"status": "failed"})
    assert [r.job.campaign_row for r in response.context["rows"]] == [2]
    assert "model exploded" in response.content.decode()
    assert 'data-testid="count-failed">1<' in response.content.decode()


# -- writing -------------------------------------------------------------------------
def test_approve_selected_then_all_that_passed(client, workspace, reviewer):
    safety_policy_update(access=Access.system(workspace), competitor_names=["Acme"])
    campaign = make_campaign(workspace, 3)
    run(campaign, ["One loaf", "Better than Acme", "Three loaves"])
    client.force_login(reviewer)
    flagged = artifact_of(campaign, 2)
    back = url("campaign", workspace, campaign.pk) + "?status=flagged"
    response = client.post(url("campaign_approve", workspace, campaign.pk), {"artifact": [str(flagged.pk)], "next": back,
                                                                             "comment": "checked by hand"})
    assert response.status_code == 302 and response["Location"] == back
    flagged.refresh_from_db()
    assert flagged.status == "approved" and flagged.review_comment == "checked by hand" and flagged.reviewed_by == reviewer
    assert artifact_of(campaign, 1).status == "passed"

    response = client.post(url("campaign_approve", workspace, campaign.pk), {"all_passed": "on"}, follow=True)
    assert "Approved 2 results." in response.content.decode()
    assert set(Artifact.objects.filter(job__campaign=campaign).values_list("status", flat=True)) == {"approved"}
    assert AuditEvent.objects.filter(action="artifact.approved").count() == 3


def test_approving_nothing_or_a_blocked_result_changes_nothing(client, workspace, reviewer):
    safety_policy_update(access=Access.system(workspace), banned_terms=["miracle cure"])
    campaign = make_campaign(workspace, 2)
    run(campaign, ["One loaf", "A miracle cure"])
    client.force_login(reviewer)
    response = client.post(url("campaign_approve", workspace, campaign.pk), {}, follow=True)
    assert "tick the results to approve first" in response.content.decode()
    blocked = artifact_of(campaign, 2)
    response = client.post(url("campaign_approve", workspace, campaign.pk), {"artifact": [str(blocked.pk)]}, follow=True)
    assert "Nothing was approved: Cannot approve artifact" in response.content.decode()
    response = client.post(url("campaign_approve", workspace, campaign.pk), {"artifact": ["nope"]}, follow=True)
    assert "Nothing was approved: Invalid artifact ids. Each must be an artifact id (a UUID)." in response.content.decode()
    assert not Artifact.objects.filter(job__campaign=campaign, status="approved").exists()


def test_an_editor_cannot_approve(client, workspace, editor):
    campaign = make_campaign(workspace, 1)
    run(campaign, ["One loaf"])
    client.force_login(editor)
    assert 'id="approve-passed"' not in client.get(url("campaign", workspace, campaign.pk)).content.decode()
    assert client.post(url("campaign_approve", workspace, campaign.pk), {"all_passed": "on"}).status_code == 403
    assert artifact_of(campaign, 1).status == "passed"


def test_cancel_stops_the_queued_jobs(client, workspace, editor, viewer):
    campaign = make_campaign(workspace, 3)
    client.force_login(viewer)
    assert 'id="cancel-campaign"' not in client.get(url("campaign", workspace, campaign.pk)).content.decode()
    assert client.post(url("campaign_cancel", workspace, campaign.pk)).status_code == 403
    client.force_login(editor)
    assert 'id="cancel-campaign"' in client.get(url("campaign", workspace, campaign.pk)).content.decode()
    response = client.post(url("campaign_cancel", workspace, campaign.pk), follow=True)
    assert "Campaign cancelled." in response.content.decode()
    assert set(campaign.jobs.values_list("status", flat=True)) == {"cancelled"}
    campaign.refresh_from_db()
    assert campaign.finished_at is not None
    again = client.post(url("campaign_cancel", workspace, campaign.pk), follow=True)
    assert "nothing left to cancel" in again.content.decode()


def test_exports_download_through_the_shared_export(client, workspace, viewer):
    campaign = make_campaign(workspace, 2)
    run(campaign, ["=SUM(A1)", "Two loaves"])
    client.force_login(viewer)
    response = client.get(url("campaign_export", workspace, campaign.pk, "csv"))
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    assert 'attachment; filename="campaign-' in response["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["row"], r["text"]) for r in table] == [("1", "'=SUM(A1)"), ("2", "Two loaves")]
    jsonl = client.get(url("campaign_export", workspace, campaign.pk, "jsonl"))
    assert len(b"".join(jsonl.streaming_content).splitlines()) == 2
    archive = client.get(url("campaign_export", workspace, campaign.pk, "zip"))
    assert archive["Content-Type"] == "application/zip"
    assert client.get(url("campaign_export", workspace, campaign.pk, "xlsx")).status_code == 404


def test_the_nav_has_campaigns_for_every_member(client, workspace, viewer):
    client.force_login(viewer)
    page = client.get(url("campaigns", workspace)).content.decode()
    assert f'<a href="{url("campaigns", workspace)}" aria-current="page">Campaigns</a>' in page
