"""The safety policy over the REST API: read with content:read, changed with
policy:manage; bad values are a 400 naming the field and change nothing."""
import pytest
from django.urls import reverse

from pressroom.accounts.models import Scope
from pressroom.safety.models import HARM_CATEGORIES
from pressroom.safety.services import safety_policy_get


@pytest.mark.parametrize("changes, field", [
    ({"banned_topics": [{"topic": ""}]}, "banned_topics"),
    ({"banned_topics": [{"topic": "politics", "action": "delete"}]}, "banned_topics"),
    ({"banned_topics": "politics"}, "banned_topics"),
    ({"harm_flag_thresholds": {"threat": 1.5}}, "harm_flag_thresholds"),
    ({"harm_flag_thresholds": {"spam": 0.5}}, "harm_flag_thresholds"),
    ({"topic_threshold": -0.1}, "topic_threshold"),
])
def test_the_api_edits_the_policy_and_refuses_bad_values(make_client, workspace, changes, field):
    api = make_client(workspace, scopes=[Scope.POLICY_MANAGE, Scope.CONTENT_READ])
    url = reverse("api:safety-policy")
    response = api.patch(url, changes, format="json")
    assert response.status_code == 400 and field in response.json()["error"]["fields"]
    assert safety_policy_get(workspace=workspace).version == 1

    good = api.patch(url, {"banned_topics": [{"topic": "party politics", "examples": ["Vote Green!"], "action": "block"}],
                           "harm_flag_thresholds": {c: 0.6 for c in HARM_CATEGORIES}}, format="json")
    assert good.status_code == 200, good.content
    assert good.json()["version"] == 2 and api.get(url).json()["banned_topics"][0]["action"] == "block"


def test_reading_needs_content_read_and_changing_needs_policy_manage(make_client, workspace):
    url = reverse("api:safety-policy")
    reader = make_client(workspace, scopes=[Scope.CONTENT_READ])
    assert reader.get(url).status_code == 200
    assert reader.patch(url, {"topic_threshold": 0.4}, format="json").status_code == 403
    assert safety_policy_get(workspace=workspace).topic_threshold != 0.4


def test_a_partial_thresholds_patch_changes_only_the_categories_it_names(make_client, workspace):
    api = make_client(workspace, scopes=[Scope.POLICY_MANAGE, Scope.CONTENT_READ])
    url = reverse("api:safety-policy")
    body = api.patch(url, {"harm_flag_thresholds": {"threat": 0.4}}, format="json").json()
    assert body["harm_flag_thresholds"] == {**{c: 0.3 for c in HARM_CATEGORIES}, "threat": 0.4}


@pytest.mark.parametrize("body, field", [
    ({"bogus": 1}, "bogus"),
    ({"version": 99}, "version"),
    ({"harm_flag_thresholds": {"threat": 0.9}, "harm_block_thresholds": {"threat": 0.5}}, "harm_flag_thresholds"),
    ({"banned_terms": "casino"}, "banned_terms"),
    ({"competitor_names": [1, 2]}, "competitor_names"),
])
def test_unknown_fields_inverted_thresholds_and_wrong_shapes_are_refused(make_client, workspace, body, field):
    api = make_client(workspace, scopes=[Scope.POLICY_MANAGE, Scope.CONTENT_READ])
    response = api.patch(reverse("api:safety-policy"), body, format="json")
    assert response.status_code == 400 and field in response.json()["error"]["fields"], response.json()
    assert safety_policy_get(workspace=workspace).version == 1


def test_a_patch_that_changes_nothing_makes_no_version(make_client, workspace):
    from pressroom.audit.models import AuditEvent

    api = make_client(workspace, scopes=[Scope.POLICY_MANAGE, Scope.CONTENT_READ])
    current = api.get(reverse("api:safety-policy")).json()
    assert api.patch(reverse("api:safety-policy"), {"topic_threshold": current["topic_threshold"]}, format="json").json()["version"] == 1
    assert api.patch(reverse("api:safety-policy"), {}, format="json").json()["version"] == 1
    assert not AuditEvent.objects.filter(workspace=workspace, action="workspace.policy_changed").exists()
