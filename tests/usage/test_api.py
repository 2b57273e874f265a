"""REST: quota refusals are 429 with the limit, and GET /api/v1/usage/ reports the ledger."""
from datetime import date, datetime, timedelta, timezone

import pytest
from rest_framework.test import APIClient

from pressroom.accounts.access import Access
from pressroom.accounts.services import api_key_create
from pressroom.jobs.models import Job
from pressroom.usage.metering import Usage
from tests.usage.conftest import TEXT, ledger_sums


@pytest.fixture
def make_client():
    def make(workspace, scopes):
        _, token = api_key_create(access=Access.system(workspace), name="cms", scopes=scopes)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make


def test_a_job_over_the_quota_is_a_429_with_the_limit_the_usage_and_when_it_resets(make_client, workspace, set_quota):
    api = make_client(workspace, ["jobs:write"])
    set_quota(workspace, jobs_per_day=1)
    assert api.post("/api/v1/jobs/", {"use_case": "core.text", "input": TEXT}, format="json").status_code == 201
    response = api.post("/api/v1/jobs/", {"use_case": "core.text", "input": TEXT}, format="json")
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "quota_exceeded" and "limit of 1 jobs per day" in error["message"]
    assert (error["metric"], error["period"], error["limit"], error["usage"]) == ("jobs", "day", 1, 1)
    resets_at = datetime.fromisoformat(error["resets_at"].replace("Z", "+00:00"))
    now = datetime.now(timezone.utc)
    assert resets_at == datetime(now.year, now.month, now.day, tzinfo=timezone.utc) + timedelta(days=1)
    assert 0 < int(response["Retry-After"]) <= 86_400
    assert abs(int(response["Retry-After"]) - (resets_at - now).total_seconds()) < 60
    assert Job.objects.filter(workspace=workspace).count() == 1


def test_a_campaign_over_the_quota_is_a_429_and_creates_nothing(make_client, workspace, set_quota):
    api = make_client(workspace, ["jobs:write", "content:read"])
    set_quota(workspace, jobs_per_month=5)
    rows = [{"prompt": f"Tagline {n}", "max_new_tokens": 8} for n in range(6)]
    response = api.post("/api/v1/campaigns/", {"use_case": "core.text", "rows": rows}, format="json")
    assert response.status_code == 429, response.json()
    assert response.json()["error"]["period"] == "month" and "Retry-After" in response
    assert not Job.objects.filter(workspace=workspace).exists()


def test_usage_api_reports_the_ledger_per_day_and_use_case_with_totals_and_limits(
        make_client, workspace, other_workspace, run_job, set_quota):
    run_job(workspace, Usage(input_tokens=20, output_tokens=8, model_seconds=0.25))
    run_job(workspace, Usage(input_tokens=10, output_tokens=4, model_seconds=0.5), fail=True)
    run_job(other_workspace, Usage(input_tokens=999, model_seconds=9.0))
    set_quota(workspace, tokens_per_month=1000)
    response = make_client(workspace, ["content:read"]).get("/api/v1/usage/")
    assert response.status_code == 200
    body = response.json()
    ledger = ledger_sums(workspace)
    today = datetime.now(timezone.utc).date()
    assert body["from"] == today.replace(day=1).isoformat() and body["to"] == today.isoformat()
    totals = body["totals"]
    assert {name: totals[name] for name in ledger} == pytest.approx(ledger)
    assert totals["tokens"] == 42 and totals["jobs"] == 2
    assert [d["date"] for d in body["days"]][-1] == today.isoformat() and len(body["days"]) == today.day
    day = body["days"][-1]
    assert day["jobs"] == 2 and day["use_cases"]["core.text"]["input_tokens"] == 30
    assert [(u["use_case"], u["jobs"]) for u in body["use_cases"]] == [("core.text", 2)]
    limits = {(limit["metric"], limit["period"]): limit for limit in body["limits"]}
    assert len(limits) == 8 and limits[("tokens", "month")]["limit"] == 1000
    assert limits[("tokens", "month")]["usage"] == 42 and limits[("jobs", "day")]["limit"] is None
    assert limits[("jobs", "day")]["usage"] == 2  # jobs created today, as the quota counts them


def test_usage_api_needs_content_read(make_client, workspace):
    assert make_client(workspace, ["jobs:write"]).get("/api/v1/usage/").status_code == 403
    assert APIClient().get("/api/v1/usage/").status_code in (401, 403)


@pytest.mark.parametrize(("query", "field"), [
    ("from=2026-13-01", "from"),
    ("to=yesterday", "to"),
    ("from=2026-05-02&to=2026-05-01", "from"),
    ("from=2024-01-01&to=2026-01-01", "to"),
])
def test_usage_api_refuses_bad_dates_with_a_clear_400(make_client, workspace, query, field):
    response = make_client(workspace, ["content:read"]).get(f"/api/v1/usage/?{query}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"], error


def test_usage_api_takes_a_date_range(make_client, workspace, run_job):
    run_job(workspace, Usage(output_tokens=5))
    today = datetime.now(timezone.utc).date()
    earlier = make_client(workspace, ["content:read"]).get(
        f"/api/v1/usage/?from={date(2025, 1, 1)}&to={date(2025, 1, 3)}").json()
    assert [d["date"] for d in earlier["days"]] == ["2025-01-01", "2025-01-02", "2025-01-03"]
    assert earlier["totals"]["output_tokens"] == 0
    span = make_client(workspace, ["content:read"]).get(f"/api/v1/usage/?from={today}&to={today}").json()
    assert span["totals"]["output_tokens"] == 5


def test_usage_api_is_in_the_openapi_schema(make_client, workspace):
    schema = make_client(workspace, ["content:read"]).get(
        "/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/usage/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"from", "to"}
    assert "UsageReport" in str(operation["responses"]["200"])


@pytest.fixture
def other_workspace(db):
    from tests.factories import WorkspaceFactory

    return WorkspaceFactory()
