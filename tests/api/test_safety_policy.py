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
