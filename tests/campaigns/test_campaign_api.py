"""The campaigns REST API: rows inline or as a file, the per-row report, results by
cursor, exports, bulk approval and cancel."""
import csv
import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pressroom.accounts.access import Access
from pressroom.accounts.models import Scope
from pressroom.campaigns.models import Campaign
from pressroom.jobs import services as job_services
from pressroom.jobs.models import Artifact, Job
from pressroom.jobs.services import artifacts_screen
from pressroom.plugins import ArtifactDraft, ModelProvenance
from pressroom.safety.services import safety_policy_update

pytestmark = pytest.mark.django_db
URL = "/api/v1/campaigns/"


def rows(count):
    return [{"prompt": f"Write a tagline for shop number {n}"} for n in range(count)]


def test_rows_inline_create_a_campaign_with_its_progress(api):
    response = api.post(URL, {"use_case": "core.text", "name": "Shops", "rows": rows(12)}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["total_jobs"] == 12 and body["name"] == "Shops" and body["source"] == "api"
    assert body["progress"]["queued"] == 12 and body["progress"]["percent"] == 0
    assert body["progress"]["seconds_left"] is None  # nothing finished yet: no rate to estimate from
    assert Job.objects.filter(campaign_id=body["id"]).count() == 12


def test_a_csv_upload_creates_a_campaign_named_after_its_file(api):
    text = "product,channels,offer\nTrail X2,search; social,20% off\nRoad Runner,display,\n"
    upload = SimpleUploadedFile("spring.csv", text.encode(), content_type="text/csv")
    response = api.post(URL, {"use_case": "marketing.ad_copy", "file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    campaign = Campaign.objects.get(pk=response.json()["id"])
    assert campaign.source == "upload" and campaign.origin == {"file": "spring.csv", "format": "csv"}
    assert campaign.jobs.get(campaign_row=1).input["channels"] == ["search", "social"]


def test_a_jsonl_upload_with_a_bad_row_is_refused_with_the_row_report_and_writes_nothing(api):
    lines = [json.dumps(r) for r in rows(3)] + ['{"prompt": ""}', "not json"]
    upload = SimpleUploadedFile("rows.jsonl", "\n".join(lines).encode())
    response = api.post(URL, {"use_case": "core.text", "file": upload}, format="multipart")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "campaign_invalid"
    assert error["rows"] == [{"row": 5, "field": "input", "message": error["rows"][0]["message"]}]
    upload = SimpleUploadedFile("rows.jsonl", "\n".join(lines[:4]).encode())
    error = api.post(URL, {"use_case": "core.text", "file": upload}, format="multipart").json()["error"]
    assert [(r["row"], r["field"]) for r in error["rows"]] == [(4, "prompt")]
    assert not Campaign.objects.exists() and not Job.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({"use_case": "core.text"}, "rows"),
    ({"use_case": "core.text", "rows": "prompt"}, "rows"),
    ({"use_case": "no.such", "rows": [{"prompt": "x"}]}, "use_case"),
    ({"use_case": "core.text", "rows": [{"prompt": "x"}], "priority": 12}, "priority"),
])
def test_bad_requests_name_the_field(api, body, field):
    response = api.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_a_file_that_is_not_utf8_or_of_unknown_type_is_refused(api):
    latin = SimpleUploadedFile("rows.csv", "prompt\ncaf\xe9\n".encode("latin-1"))
    assert "not UTF-8" in api.post(URL, {"use_case": "core.text", "file": latin}, format="multipart").json()["error"]["message"]
    sheet = SimpleUploadedFile("rows.xlsx", b"PK\x03\x04")
    assert api.post(URL, {"use_case": "core.text", "file": sheet}, format="multipart").json()["error"]["fields"]["file"]


def test_a_key_without_jobs_write_cannot_create_and_another_workspace_sees_nothing(make_client, workspace, other_workspace):
    reader = make_client(workspace, scopes=[Scope.CONTENT_READ])
    assert reader.post(URL, {"use_case": "core.text", "rows": rows(1)}, format="json").status_code == 403
    campaign_id = make_client(workspace).post(URL, {"use_case": "core.text", "rows": rows(1)}, format="json").json()["id"]
    outsider = make_client(other_workspace)
    assert outsider.get(f"{URL}{campaign_id}/").status_code == 404
    assert outsider.get(f"{URL}{campaign_id}/results/").status_code == 404
    assert outsider.get(URL).json()["results"] == []


def _run(campaign, texts):
    provenance = ModelProvenance(alias="text-default", source="/m", revision="sha256:x")
    for job in campaign.jobs.order_by("campaign_row"):
        job_services.job_start(job=job, worker="w")
        job_services.job_succeed(job=job, drafts=[ArtifactDraft(kind="text", variant_index=0, text=texts[job.campaign_row - 1],
                                                                params={"temperature": 0.7}, provenance=provenance, seed=7)])
    artifacts_screen(artifact_ids=list(Artifact.objects.filter(job__campaign=campaign).values_list("pk", flat=True)))


def test_results_page_by_row_with_a_cursor_and_exports_carry_provenance(api, workspace):
    campaign_id = api.post(URL, {"use_case": "core.text", "rows": rows(5)}, format="json").json()["id"]
    campaign = Campaign.objects.get(pk=campaign_id)
    _run(campaign, ["=HYPERLINK(evil)", "Two", "Three", "Four", "Five"])
    first = api.get(f"{URL}{campaign_id}/results/", {"page_size": 2}).json()
    assert [r["row"] for r in first["results"]] == [1, 2]
    second = api.get(first["next"]).json()
    assert [r["row"] for r in second["results"]] == [3, 4]
    assert second["results"][0]["artifacts"][0]["text"] == "Three"
    progress = api.get(f"{URL}{campaign_id}/").json()["progress"]
    assert progress["done"] == 5 and progress["percent"] == 100 and progress["finished"] and progress["seconds_left"] == 0

    exported = b"".join(api.get(f"{URL}{campaign_id}/export/", {"format": "csv"}).streaming_content).decode()
    table = list(csv.DictReader(io.StringIO(exported)))
    assert [r["row"] for r in table] == ["1", "2", "3", "4", "5"]
    assert table[0]["text"] == "'=HYPERLINK(evil)"  # never a formula in a spreadsheet
    assert table[1]["model_alias"] == "text-default" and table[1]["seed"] == "7"
    lines = b"".join(api.get(f"{URL}{campaign_id}/export/", {"format": "jsonl"}).streaming_content).decode().splitlines()
    record = json.loads(lines[2])
    assert record["text"] == "Three" and record["provenance"]["generation_params"]["temperature"] == 0.7
    archive = zipfile.ZipFile(io.BytesIO(b"".join(api.get(f"{URL}{campaign_id}/export/", {"format": "zip"}).streaming_content)))
    assert archive.namelist() == ["manifest.jsonl"]  # a text campaign has no images
    assert api.get(f"{URL}{campaign_id}/export/", {"format": "xlsx"}).status_code == 400


def test_bulk_approval_and_cancel_through_the_api(make_client, workspace):
    safety_policy_update(access=Access.system(workspace), competitor_names=["Acme"])
    api = make_client(workspace)
    campaign_id = api.post(URL, {"use_case": "core.text", "rows": rows(3)}, format="json").json()["id"]
    campaign = Campaign.objects.get(pk=campaign_id)
    _run(campaign, ["One", "Better than Acme", "Three"])
    assert api.post(f"{URL}{campaign_id}/approve/", {}, format="json").json() == {"approved": 2}
    flagged = Artifact.objects.get(job__campaign=campaign, status="flagged")
    assert api.post(f"{URL}{campaign_id}/approve/", {"artifact_ids": [str(flagged.pk)]}, format="json").json() == {"approved": 1}
    assert api.post(f"{URL}{campaign_id}/approve/", {"artifact_ids": ["nope"]}, format="json").status_code == 400
    assert api.post(f"{URL}{campaign_id}/cancel/").status_code == 409  # it has finished
    reader = make_client(workspace, scopes=[Scope.CONTENT_READ])
    assert reader.post(f"{URL}{campaign_id}/approve/", {}, format="json").status_code == 403


def test_a_large_body_within_the_campaign_limit_is_accepted(api):
    many = [{"prompt": f"Describe product {n} " + "in detail " * 60} for n in range(3000)]  # about 2 MB
    response = api.post(URL, {"use_case": "core.text", "rows": many}, format="json")
    assert response.status_code == 201, response.content[:500]
    assert response.json()["total_jobs"] == 3000


def test_a_file_where_every_row_is_wrong_reports_a_bounded_list_and_the_total(api, settings):
    settings.PRESSROOM = {**settings.PRESSROOM, "CAMPAIGN_MAX_REPORTED_ERRORS": 5}
    response = api.post(URL, {"use_case": "core.text", "rows": [{"prompt": ""} for _ in range(40)]}, format="json")
    error = response.json()["error"]
    assert response.status_code == 400 and len(error["rows"]) == 5 and error["rows_total"] == 40
    assert [r["row"] for r in error["rows"]] == [1, 2, 3, 4, 5]
