"""A workspace chooses which installed plugins it offers: the catalogue, the API and job
creation obey it; the choice is an admin's, audited."""
import pytest
from django.urls import reverse

from pressroom.accounts.access import Access
from pressroom.accounts.models import Role
from pressroom.audit.models import AuditEvent
from pressroom.core.errors import InputInvalid, NotAllowed, UseCaseNotOffered
from pressroom.jobs.services import job_create
from pressroom.plugins.services import workspace_plugins_set
from tests.factories import access_of, member


def test_a_turned_off_plugin_refuses_jobs_and_leaves_the_catalogue_and_the_api(client, workspace):
    workspace_plugins_set(access=Access.system(workspace), enabled=["marketing", "recommendation"])
    with pytest.raises(UseCaseNotOffered) as refused:
        job_create(access=Access.system(workspace), use_case_key="design.banner", input={"prompt": "A poster"})
    assert "turned off" in refused.value.field_errors["use_case"][0]
    assert job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "Hi there"})  # built-in: always

    editor = member(workspace, Role.EDITOR, "ed")
    client.force_login(editor)
    catalogue = client.get(reverse("dashboard:catalogue", args=[workspace.slug])).content.decode()
    assert "marketing.ad_copy" in catalogue and "design.banner" not in catalogue
    assert client.get(reverse("dashboard:job_new", args=[workspace.slug, "design.banner"])).status_code == 404


def test_the_api_lists_only_offered_use_cases(workspace):
    from rest_framework.test import APIClient

    from pressroom.accounts.services import api_key_create

    workspace_plugins_set(access=Access.system(workspace), enabled=["marketing"])
    _, token = api_key_create(access=Access.system(workspace), name="cms", scopes=["jobs:write", "content:read"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    keys = {u["key"] for u in api.get(reverse("api:use-case-list")).json()["use_cases"]}
    assert "marketing.ad_copy" in keys and not any(k.startswith(("design.", "recommendation.")) for k in keys)
    assert api.get(reverse("api:use-case-detail", args=["design.banner"])).status_code == 404
    response = api.post(reverse("api:job-list"), {"use_case": "design.banner", "input": {"prompt": "A poster"}}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "use_case_not_offered"
    assert {p["name"] for p in api.get(reverse("api:plugins")).json()["plugins"]} <= {"core", "marketing"}


def test_only_admins_choose_and_the_choice_is_audited(workspace):
    with pytest.raises(NotAllowed):
        workspace_plugins_set(access=access_of(member(workspace, Role.REVIEWER, "rita"), workspace), enabled=[])
    with pytest.raises(InputInvalid):
        workspace_plugins_set(access=Access.system(workspace), enabled=["nonexistent"])
    workspace_plugins_set(access=Access.system(workspace), enabled=["marketing", "recommendation"])
    event = AuditEvent.objects.get(workspace=workspace, action="workspace.plugins_changed")
    assert event.data == {"disabled_before": [], "disabled_after": ["design"]}


def test_the_settings_page_turns_plugins_on_and_off(client, workspace):
    client.force_login(member(workspace, Role.ADMIN, "ada"))
    url = reverse("dashboard:settings", args=[workspace.slug])
    client.post(url, {"save_plugins": "1", "enabled": ["marketing"]})
    workspace.refresh_from_db()
    assert workspace.disabled_plugins == ["design", "recommendation"]
