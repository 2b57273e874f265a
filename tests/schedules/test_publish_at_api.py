"""POST /api/v1/artifacts/{id}/schedule/ and /unschedule/: scopes, clear 400s, the filter."""
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from pressroom.accounts.access import Access
from pressroom.accounts.models import Scope
from pressroom.accounts.services import api_key_create
from pressroom.audit.models import AuditEvent
from pressroom.jobs.models import Artifact
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db


def client_for(workspace, scopes=tuple(Scope.values)) -> APIClient:
    key, token = api_key_create(access=Access.system(workspace), name="cms", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.key = key
    return client


def in_an_hour() -> str:
    return (timezone.now() + timedelta(hours=1)).isoformat()


def test_schedule_and_unschedule_over_the_api(make_approved, workspace):
    (artifact,) = make_approved()
    api = client_for(workspace)
    when = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
    response = api.post(f"/api/v1/artifacts/{artifact.pk}/schedule/", {"publish_at": when.isoformat()}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "scheduled"
    assert Artifact.objects.get(pk=artifact.pk).publish_at == when
    event = AuditEvent.objects.get(action="artifact.scheduled", object_id=str(artifact.pk))
    assert (event.actor_type, event.actor_id) == ("api_key", str(api.key.pk))

    listed = api.get("/api/v1/artifacts/", {"status": "scheduled"}).json()["results"]
    assert [a["id"] for a in listed] == [str(artifact.pk)]

    response = api.post(f"/api/v1/artifacts/{artifact.pk}/unschedule/")
    assert response.status_code == 200 and response.json()["status"] == "approved" and response.json()["publish_at"] is None
    assert api.post(f"/api/v1/artifacts/{artifact.pk}/unschedule/").status_code == 409  # not scheduled any more


@pytest.mark.parametrize("body, message", [
    ({"publish_at": "2001-01-01T09:00:00Z"}, "has passed"),
    ({"publish_at": "2099-01-01T09:00:00"}, "offset or Z"),
    ({"publish_at": "next tuesday"}, "wrong format"),
    ({"publish_at": ""}, "wrong format"),
    ({"publish_at": "9999-12-31T23:59:59-23:00"}, "out of range"),
    ({}, "required"),
])
def test_past_naive_and_malformed_times_are_clear_400s(make_approved, workspace, body, message):
    (artifact,) = make_approved()
    response = client_for(workspace).post(f"/api/v1/artifacts/{artifact.pk}/schedule/", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert message in " ".join(error["fields"]["publish_at"]) + error["message"]
    assert Artifact.objects.get(pk=artifact.pk).status == "approved"


def test_scheduling_needs_content_publish_and_the_artifacts_workspace(make_approved, make_screened, workspace):
    (artifact,) = make_approved()
    reviewer_only = client_for(workspace, [Scope.CONTENT_READ, Scope.CONTENT_REVIEW])
    assert reviewer_only.post(f"/api/v1/artifacts/{artifact.pk}/schedule/", {"publish_at": in_an_hour()},
                              format="json").status_code == 403
    stranger = client_for(WorkspaceFactory())
    assert stranger.post(f"/api/v1/artifacts/{artifact.pk}/schedule/", {"publish_at": in_an_hour()},
                         format="json").status_code == 404
    (unapproved,) = make_screened("Plain copy for a bakery.")
    response = client_for(workspace).post(f"/api/v1/artifacts/{unapproved.pk}/schedule/", {"publish_at": in_an_hour()},
                                          format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "invalid_transition"


def test_the_schema_documents_both_actions(workspace):
    schema = client_for(workspace).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "publish_at" in schema["components"]["schemas"]["ScheduleRequest"]["properties"]
    assert "post" in schema["paths"]["/api/v1/artifacts/{id}/schedule/"]
    assert "post" in schema["paths"]["/api/v1/artifacts/{id}/unschedule/"]
