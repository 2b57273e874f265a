"""REST API v1: jobs, artifacts, errors, isolation, scopes, throttling, feed, audit."""
import json
import threading
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from pressroom.accounts.models import Scope
from pressroom.accounts.services import api_key_revoke
from pressroom.audit.models import AuditEvent
from pressroom.audit.services import SYSTEM
from pressroom.jobs.models import Job
from pressroom.publishing.models import PublishedItem
from pressroom.jobs.services import artifact_approve
from tests.factories import MembershipFactory, UserFactory
from pressroom.accounts.access import Access
from tests.factories import access_of

pytestmark = pytest.mark.django_db(transaction=True)

JOB = {"use_case": "core.text", "input": {"prompt": "Write a tagline for a bakery"}}
CLEAN, FLAGGED, BLOCKED = "Fresh bread every morning.", "damn, what a deal", "Our tea is a guaranteed cure."


def error(response) -> dict:
    return response.json()["error"]


# -- jobs -----------------------------------------------------------------------------
def test_create_job_then_read_it(api):
    created = api.post("/api/v1/jobs/", JOB, format="json")
    assert created.status_code == 201, created.content
    job = created.json()
    assert job["status"] == "queued" and job["input"]["max_new_tokens"] == 128 and job["queue_position"] == 1
    fetched = api.get(f"/api/v1/jobs/{job['id']}/").json()
    assert fetched["id"] == job["id"] and fetched["artifacts"] == []
    listed = api.get("/api/v1/jobs/?status=queued").json()
    assert [j["id"] for j in listed["results"]] == [job["id"]]
    assert api.get("/api/v1/jobs/?status=running").json()["results"] == []


def test_a_submission_answers_with_what_its_transaction_wrote_and_counted(api, workspace):
    """Its input screening and queue position are those job_create stored and counted: the
    same as reading the job back, and nothing is read again after the commit."""
    from django.db import connection

    from pressroom.safety.services import safety_policy_update

    safety_policy_update(access=Access.system(workspace), competitor_names=["Acme"])
    api.post("/api/v1/jobs/", {**JOB, "priority": 7}, format="json")
    statements = []
    flagged = {"use_case": "core.text", "input": {"prompt": "Softer loaves than Acme bakes"}}
    def record(execute, sql, *rest):
        statements.append((sql, connection.in_atomic_block))
        return execute(sql, *rest)

    with connection.execute_wrapper(record):
        created = api.post("/api/v1/jobs/", flagged, format="json")
    assert created.status_code == 201, created.content
    job = created.json()
    assert job["input_screening"]["decision"] == "flag" and job["input_screening"]["reasons"]
    assert job["queue_position"] == 2  # behind the priority-7 job
    fetched = api.get(f"/api/v1/jobs/{job['id']}/").json()
    assert (fetched["input_screening"], fetched["queue_position"]) == (job["input_screening"], job["queue_position"])
    last_in_transaction = max(index for index, (_, in_transaction) in enumerate(statements) if in_transaction)
    after_commit = [sql for sql, _ in statements[last_in_transaction + 1:]]
    assert not [sql for sql in after_commit if sql.startswith("SELECT")], after_commit


def test_a_submission_screens_under_the_policy_its_api_key_brought_along(api, workspace):
    """The key's select brings its workspace's safety policy: no statement of its own, and
    a change made a moment before is the one that judges the next submission."""
    from django.db import connection

    from pressroom.safety.services import safety_policy_update

    assert api.post("/api/v1/jobs/", JOB, format="json").status_code == 201  # the policy row exists from here on
    policy = safety_policy_update(access=Access.system(workspace), competitor_names=["Acme"])
    statements = []
    with connection.execute_wrapper(lambda execute, sql, *rest: statements.append(sql) or execute(sql, *rest)):
        flagged = api.post("/api/v1/jobs/", {"use_case": "core.text", "input": {"prompt": "Softer than Acme"}}, format="json")
    assert flagged.status_code == 201, flagged.content
    assert not [sql for sql in statements if sql.startswith("SELECT") and 'FROM "safety_safetypolicy"' in sql], statements
    assert flagged.json()["input_screening"]["decision"] == "flag"
    verdicts = Job.objects.get(pk=flagged.json()["id"]).input_verdicts.all()
    assert {verdict.policy_version for verdict in verdicts} == {policy.version}


def test_a_workspace_read_with_its_policy_sees_a_change_made_through_it():
    """Within one request the key's workspace carries its policy: a change made through
    that request's access is what it reads afterwards, not the policy it was loaded with."""
    from pressroom.accounts.models import Workspace
    from pressroom.safety.services import safety_policy_get, safety_policy_update

    workspace = Workspace.objects.create(slug="policy-cache", name="Policy cache")
    safety_policy_get(workspace=workspace)
    loaded = Workspace.objects.select_related("safety_policy").get(pk=workspace.pk)
    changed = safety_policy_update(access=Access.system(loaded), banned_terms=["cheap"])
    assert safety_policy_get(workspace=loaded).version == changed.version
    assert safety_policy_get(workspace=loaded).banned_terms == ["cheap"]


def test_idempotency_key_replays_or_conflicts(api):
    first = api.post("/api/v1/jobs/", JOB, format="json", HTTP_IDEMPOTENCY_KEY="order-42")
    again = api.post("/api/v1/jobs/", JOB, format="json", HTTP_IDEMPOTENCY_KEY="order-42")
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    other = api.post("/api/v1/jobs/", {**JOB, "input": {"prompt": "other"}}, format="json", HTTP_IDEMPOTENCY_KEY="order-42")
    assert other.status_code == 409 and error(other)["code"] == "idempotency_conflict"
    assert Job.objects.count() == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"use_case": "nope", "input": {}}, "use_case"),
    ({"use_case": "core.text", "input": {"prompt": 5}}, "prompt"),
    ({"use_case": "core.text", "input": {"prompt": "x" * 4001}}, "prompt"),
    ({"use_case": "core.text", "input": {"prompt": "x"}, "priority": 11}, "priority"),
    ({"input": {"prompt": "x"}}, "use_case"),
    ({"use_case": "core.text", "input": ["x"]}, "input"),
])
def test_invalid_jobs_get_400_with_field_messages(api, body, field):
    response = api.post("/api/v1/jobs/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in error(response)["fields"], error(response)
    assert Job.objects.count() == 0


def test_blocked_input_is_400_naming_the_rule(api, workspace):
    from pressroom.safety.services import safety_policy_update

    safety_policy_update(access=Access.system(workspace), banned_terms=["miracle"])
    response = api.post("/api/v1/jobs/", {"use_case": "core.text", "input": {"prompt": "A miracle cream"}}, format="json")
    assert response.status_code == 400 and error(response)["code"] == "input_blocked"
    assert "banned term 'miracle'" in error(response)["fields"]["prompt"][0]


def test_malformed_json_wrong_type_and_oversized_bodies(api, settings):
    malformed = api.post("/api/v1/jobs/", data='{"use_case": "core.text", ', content_type="application/json")
    assert malformed.status_code == 400 and error(malformed)["code"] == "malformed_request"
    wrong_type = api.post("/api/v1/jobs/", data="use_case=core.text", content_type="application/x-www-form-urlencoded")
    assert wrong_type.status_code == 415 and error(wrong_type)["code"] == "unsupported_media_type"
    settings.PRESSROOM = {"API_MAX_BODY_BYTES": 1000}
    huge = api.post("/api/v1/jobs/", data=json.dumps({**JOB, "input": {"prompt": "x" * 2000}}), content_type="application/json")
    assert huge.status_code == 413 and error(huge)["code"] == "request_too_large"


def test_cancel_and_cancel_again_conflicts(api):
    job = api.post("/api/v1/jobs/", JOB, format="json").json()
    assert api.post(f"/api/v1/jobs/{job['id']}/cancel/").json()["status"] == "cancelled"
    again = api.post(f"/api/v1/jobs/{job['id']}/cancel/")
    assert again.status_code == 409 and error(again)["code"] == "invalid_transition"


# -- artifacts, review and publishing ---------------------------------------------------
def test_review_and_publish_rules_over_the_api(api, workspace, screened_artifacts):
    _, (clean, flagged, blocked) = screened_artifacts(workspace, CLEAN, FLAGGED, BLOCKED)
    assert [a.status for a in (clean, flagged, blocked)] == ["passed", "flagged", "blocked"]
    listed = api.get("/api/v1/artifacts/?status=flagged").json()["results"]
    assert [a["id"] for a in listed] == [str(flagged.pk)]
    assert listed[0]["safety"]["decision"] == "flag" and listed[0]["safety"]["verdicts"]

    for artifact_id, verb in [(blocked.pk, "approve"), (blocked.pk, "publish"), (flagged.pk, "publish")]:
        response = api.post(f"/api/v1/artifacts/{artifact_id}/{verb}/", {}, format="json")
        assert response.status_code == 409, (verb, response.content)
    approved = api.post(f"/api/v1/artifacts/{flagged.pk}/approve/", {"comment": "fine in context"}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    published = api.post(f"/api/v1/artifacts/{flagged.pk}/publish/")
    assert published.status_code == 200 and published.json()["status"] == "published"
    event = AuditEvent.objects.get(object_id=str(flagged.pk), action="artifact.approved")
    assert event.actor_type == "api_key" and event.actor_id == str(api.key.pk)


def test_reject_needs_a_comment(api, workspace, screened_artifacts):
    _, (clean,) = screened_artifacts(workspace, CLEAN)
    assert api.post(f"/api/v1/artifacts/{clean.pk}/reject/", {}, format="json").status_code == 400
    assert api.post(f"/api/v1/artifacts/{clean.pk}/reject/", {"comment": "off brand"}, format="json").json()["status"] == "rejected"


# -- isolation, scopes, credentials -----------------------------------------------------
def test_a_key_of_workspace_a_finds_nothing_of_workspace_b(make_client, workspace, other_workspace, screened_artifacts):
    a = make_client(workspace)
    b = make_client(other_workspace)
    job_b = b.post("/api/v1/jobs/", JOB, format="json").json()
    _, (artifact_b,) = screened_artifacts(other_workspace, CLEAN)
    # A public address (no DNS needed); no event it subscribes to happens, so nothing is sent.
    hook_b = b.post("/api/v1/webhooks/", {"url": "https://93.184.216.34/hook", "events": ["job.failed"]}, format="json")
    assert hook_b.status_code == 201, hook_b.content
    hook_id = hook_b.json()["id"]
    for method, path in [
        ("get", f"/api/v1/jobs/{job_b['id']}/"), ("post", f"/api/v1/jobs/{job_b['id']}/cancel/"),
        ("get", f"/api/v1/artifacts/{artifact_b.pk}/"), ("post", f"/api/v1/artifacts/{artifact_b.pk}/approve/"),
        ("post", f"/api/v1/artifacts/{artifact_b.pk}/publish/"), ("post", f"/api/v1/artifacts/{artifact_b.pk}/reject/"),
        ("get", f"/api/v1/webhooks/{hook_id}/"), ("patch", f"/api/v1/webhooks/{hook_id}/"), ("delete", f"/api/v1/webhooks/{hook_id}/"),
        ("post", f"/api/v1/webhooks/{hook_id}/ping/"), ("get", f"/api/v1/webhooks/{hook_id}/deliveries/"),
    ]:
        response = getattr(a, method)(path, {"comment": "x"}, format="json")
        assert response.status_code == 404, (method, path, response.status_code)
    assert a.get("/api/v1/jobs/").json()["results"] == [] and a.get("/api/v1/artifacts/").json()["results"] == []
    assert all(e["object_id"] != job_b["id"] for e in a.get("/api/v1/audit-events/").json()["results"])


@pytest.mark.parametrize(("scopes", "method", "path", "body"), [
    ([Scope.CONTENT_READ], "post", "/api/v1/jobs/", JOB),
    ([Scope.JOBS_WRITE], "get", "/api/v1/audit-events/", None),
    ([Scope.JOBS_WRITE], "get", "/api/v1/published/", None),
    ([Scope.CONTENT_READ], "get", "/api/v1/webhooks/", None),
    ([Scope.CONTENT_READ], "post", "/api/v1/artifacts/00000000-0000-0000-0000-000000000000/approve/", {}),
    ([Scope.CONTENT_REVIEW], "post", "/api/v1/artifacts/00000000-0000-0000-0000-000000000000/publish/", {}),
])
def test_a_key_without_the_scope_gets_403(make_client, workspace, scopes, method, path, body):
    response = getattr(make_client(workspace, scopes=scopes), method)(path, body, format="json")
    assert response.status_code == 403 and error(response)["code"] == "permission_denied"
    assert "Missing scope" in error(response)["message"]


def test_revoked_expired_and_unknown_keys_get_401(make_client, workspace):
    revoked = make_client(workspace)
    api_key_revoke(key=revoked.key, access=Access.system(revoked.key.workspace))
    expired = make_client(workspace, expires_at=timezone.now() - timedelta(seconds=1))
    forged = make_client(workspace)
    forged.credentials(HTTP_AUTHORIZATION="Bearer " + forged.token[:-4] + "AAAA")
    for client in (revoked, expired, forged):
        response = client.get("/api/v1/jobs/")
        assert response.status_code == 401 and error(response)["code"] == "authentication_failed"
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/jobs/").status_code in (401, 403)
    assert AuditEvent.objects.filter(action="api_key.revoked").count() == 1


def test_session_users_get_the_scopes_of_their_role(workspace):
    from rest_framework.test import APIClient

    editor = MembershipFactory(workspace=workspace, role="editor").user
    client = APIClient()
    client.force_login(editor)
    assert client.post("/api/v1/jobs/", JOB, format="json").status_code == 201
    assert client.get("/api/v1/audit-events/").status_code == 403
    stranger = APIClient()
    stranger.force_login(UserFactory(username="stranger"))
    assert stranger.get("/api/v1/jobs/").status_code == 403


def test_throttling_per_key_answers_429_with_retry_after(make_client, workspace, settings):
    settings.PRESSROOM = {"API_THROTTLE_RATE": "3/min"}
    limited, other = make_client(workspace), make_client(workspace)
    codes = [limited.get("/api/v1/use-cases/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    throttled = limited.get("/api/v1/use-cases/")
    assert int(throttled["Retry-After"]) > 0 and error(throttled)["code"] == "throttled"
    assert other.get("/api/v1/use-cases/").status_code == 200  # per key


# -- catalogue, schema, audit -------------------------------------------------------------
def test_plugins_and_use_cases_with_their_input_schemas(api):
    plugins = {p["name"]: p for p in api.get("/api/v1/plugins/").json()["plugins"]}
    assert {"core", "marketing", "design", "recommendation"} <= set(plugins)
    ad = next(u for u in plugins["marketing"]["use_cases"] if u["key"] == "marketing.ad_copy")
    assert ad["input_schema"]["properties"]["channels"]["type"] == "array"
    assert api.get("/api/v1/use-cases/design.banner/").json()["input_schema"]["required"]
    assert api.get("/api/v1/use-cases/no.such/").status_code == 404


def test_openapi_schema_and_offline_docs(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    docs = api.get("/api/v1/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()  # assets come from the sidecar, not a CDN


def test_audit_events_list_and_export(api, workspace):
    api.post("/api/v1/jobs/", JOB, format="json")
    events = api.get("/api/v1/audit-events/?object_type=job").json()["results"]
    assert [e["action"] for e in events] == ["job.created"] and events[0]["actor_type"] == "api_key"
    jsonl = api.get("/api/v1/audit-events/export/?format=jsonl")
    lines = [json.loads(line) for line in b"".join(jsonl.streaming_content).decode().splitlines()]
    assert {line["action"] for line in lines} >= {"api_key.created", "job.created"}
    csv_text = b"".join(api.get("/api/v1/audit-events/export/?format=csv").streaming_content).decode()
    assert csv_text.startswith("workspace,sequence,timestamp")
    assert api.get("/api/v1/audit-events/?since=yesterday").status_code == 400


# -- the pull feed -----------------------------------------------------------------------
def test_feed_pages_through_published_items(api, workspace, screened_artifacts):
    _, artifacts = screened_artifacts(workspace, "One.", "Two.", "Three.")
    for artifact in artifacts:
        api.post(f"/api/v1/artifacts/{artifact.pk}/approve/", {}, format="json")
        api.post(f"/api/v1/artifacts/{artifact.pk}/publish/")
    first = api.get("/api/v1/published/?limit=2").json()
    assert [i["artifact"]["text"] for i in first["items"]] == ["One.", "Two."]
    second = api.get(f"/api/v1/published/?limit=2&cursor={first['next_cursor']}").json()
    assert [i["artifact"]["text"] for i in second["items"]] == ["Three."]
    empty = api.get(f"/api/v1/published/?cursor={second['next_cursor']}").json()
    assert empty["items"] == [] and empty["next_cursor"] == second["next_cursor"]
    assert api.get("/api/v1/published/?cursor=garbage!").status_code == 400


def test_feed_is_stable_under_concurrent_publication(api, workspace, screened_artifacts):
    from django.db import connection

    from pressroom.jobs.services import artifact_publish

    _, artifacts = screened_artifacts(workspace, *[f"Item {i}." for i in range(24)])
    reviewer = UserFactory(username="boss", is_superuser=True)
    for artifact in artifacts:
        artifact_approve(artifact=artifact, access=access_of(reviewer, artifact.workspace))
    seen, done = [], threading.Event()

    def publish(chunk):
        for artifact in chunk:
            artifact_publish(artifact=artifact, access=Access.system(artifact.workspace))
        connection.close()

    def poll():
        cursor = ""
        while True:
            finished = done.is_set()
            page = api.get(f"/api/v1/published/?limit=5&cursor={cursor}").json()
            seen.extend(item["artifact"]["id"] for item in page["items"])
            cursor = page["next_cursor"]
            if finished and not page["items"]:
                break
        connection.close()

    publishers = [threading.Thread(target=publish, args=(artifacts[i::4],)) for i in range(4)]
    poller = threading.Thread(target=poll)
    poller.start()
    for thread in publishers:
        thread.start()
    for thread in publishers:
        thread.join()
    done.set()
    poller.join(timeout=60)
    assert sorted(seen) == sorted(str(a.pk) for a in artifacts)  # nothing skipped, nothing repeated
    positions = list(PublishedItem.objects.filter(workspace=workspace).order_by("position").values_list("position", flat=True))
    assert positions == list(range(1, 25))


# -- idempotency under concurrent duplicates, over real HTTP ------------------------------
def test_concurrent_duplicate_requests_make_one_job(live_server, make_client, workspace):
    client = make_client(workspace)
    barrier = threading.Barrier(6)
    results = []

    def send():
        barrier.wait()
        response = httpx.post(f"{live_server.url}/api/v1/jobs/", json=JOB, timeout=30,
                              headers={"Authorization": f"Bearer {client.token}", "Idempotency-Key": "dup-1"})
        results.append((response.status_code, response.json().get("id")))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {code for code, _ in results} <= {200, 201} and len({job_id for _, job_id in results}) == 1
    assert Job.objects.filter(idempotency_key="dup-1").count() == 1


def test_webhook_deliveries_are_paginated_as_the_schema_says(api, workspace):
    from pressroom.publishing.models import WebhookDelivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(workspace=workspace, url="https://93.184.216.34/hook", events=["job.failed"])
    WebhookDelivery.objects.bulk_create(WebhookDelivery(endpoint=endpoint, event="job.failed", payload={"n": n}) for n in range(7))
    first = api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/", {"page_size": 5}).json()
    assert [d["payload"]["n"] for d in first["results"]] == [6, 5, 4, 3, 2]
    second = api.get(first["next"]).json()
    assert [d["payload"]["n"] for d in second["results"]] == [1, 0] and second["next"] is None
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    response = schema["paths"]["/api/v1/webhooks/{id}/deliveries/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert response["schema"]["$ref"].endswith("PaginatedWebhookDeliveryList")


def test_list_filters_are_filtersets_documented_in_the_schema(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    names = {p["name"] for p in schema["paths"]["/api/v1/jobs/"]["get"]["parameters"]}
    assert {"status", "use_case", "created_after", "created_before"} <= names
    bad = api.get("/api/v1/jobs/", {"status": "nope", "created_after": "yesterday"})
    assert bad.status_code == 400 and {"status", "created_after"} <= set(bad.json()["error"]["fields"])
