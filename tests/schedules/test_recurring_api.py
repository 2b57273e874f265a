"""GET/POST /api/v1/campaign-schedules/ and GET/PATCH/DELETE /api/v1/campaign-schedules/{id}/."""
import pytest
from django_celery_beat.models import PeriodicTask

from pressroom.accounts.models import Scope
from pressroom.schedules.models import CampaignSchedule
from tests.factories import WorkspaceFactory
from tests.schedules.test_publish_at_api import client_for

pytestmark = pytest.mark.django_db

BODY = {"name": "Daily tips", "use_case": "core.text", "input_rows": [{"prompt": "A tip for {weekday}"}],
        "minute": "0", "hour": "8", "day_of_week": "mon-fri"}


def test_create_read_change_and_delete_over_the_api(workspace):
    workspace.time_zone = "Asia/Tokyo"
    workspace.save(update_fields=["time_zone"])
    api = client_for(workspace, [Scope.JOBS_WRITE])
    created = api.post("/api/v1/campaign-schedules/", BODY, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["cron"], body["time_zone"], body["enabled"], body["last_run_at"]) == ("0 8 * * mon-fri", "Asia/Tokyo", True, None)
    schedule_url = f"/api/v1/campaign-schedules/{body['id']}/"

    reader = client_for(workspace, [Scope.CONTENT_READ])
    assert [s["id"] for s in reader.get("/api/v1/campaign-schedules/").json()["results"]] == [body["id"]]
    assert reader.get(schedule_url).json()["input_rows"] == BODY["input_rows"]
    assert reader.patch(schedule_url, {"enabled": False}, format="json").status_code == 403
    assert reader.delete(schedule_url).status_code == 403

    changed = api.patch(schedule_url, {"hour": "10", "enabled": False}, format="json")
    assert changed.status_code == 200 and changed.json()["cron"] == "0 10 * * mon-fri" and changed.json()["enabled"] is False
    task = CampaignSchedule.objects.get(pk=body["id"]).periodic_task
    assert (task.crontab.hour, task.enabled) == ("10", False)

    assert api.delete(schedule_url).status_code == 204
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()
    assert api.get(schedule_url).status_code == 404


@pytest.mark.parametrize("change, field", [
    ({"minute": "75"}, "minute"),
    ({"day_of_week": "someday"}, "day_of_week"),
    ({"input_rows": [{"prompt": "fine"}, {"prompt": ""}]}, "rows.2.prompt"),
    ({"input_rows": {"prompt": "not a list"}}, "rows"),
    ({"use_case": "nope.nothing"}, "use_case"),
    ({"name": ""}, "name"),
])
def test_invalid_schedules_are_400s_naming_the_field(workspace, change, field):
    response = client_for(workspace).post("/api/v1/campaign-schedules/", {**BODY, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"], response.json()
    assert not CampaignSchedule.objects.exists()


def test_another_workspaces_schedules_are_not_found(workspace):
    created = client_for(workspace).post("/api/v1/campaign-schedules/", BODY, format="json").json()
    stranger = client_for(WorkspaceFactory())
    assert stranger.get("/api/v1/campaign-schedules/").json()["results"] == []
    assert stranger.patch(f"/api/v1/campaign-schedules/{created['id']}/", {"hour": "1"}, format="json").status_code == 404
    assert stranger.delete(f"/api/v1/campaign-schedules/{created['id']}/").status_code == 404


def test_duplicate_names_in_a_workspace_are_refused(workspace):
    api = client_for(workspace)
    assert api.post("/api/v1/campaign-schedules/", BODY, format="json").status_code == 201
    response = api.post("/api/v1/campaign-schedules/", BODY, format="json")
    assert response.status_code == 400 and "name" in response.json()["error"]["fields"]
