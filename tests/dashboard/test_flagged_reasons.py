"""A flagged card lists every reason its checks gave, spans or not."""
import pytest

from pressroom.safety.services import safety_policy_get
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_flagged_card_lists_every_reason(client, workspace, reviewer, make_artifacts):
    policy = safety_policy_get(workspace=workspace)
    policy.required_disclaimers = {"core.text": ["Terms apply."]}
    policy.competitor_names = ["Acme"]
    policy.save()
    (artifact,) = make_artifacts("Dear [User Name], our shoes beat Acme on every trail.")
    artifact.refresh_from_db()
    assert artifact.status == "flagged"
    flagged = [v for v in artifact.verdicts.all() if v.decision != "pass"]
    expected = {v.reason for v in flagged if v.reason} | {e["reason"] for v in flagged for e in v.evidence}
    assert "missing required disclaimer: 'Terms apply.'" in " ".join(expected)  # no span carries this one

    client.force_login(reviewer)
    for page in (reverse("dashboard:artifact", args=[workspace.slug, artifact.pk]), reverse("dashboard:review", args=[workspace.slug])):
        html = client.get(page).content.decode()
        card = html[html.index('aria-label="Why it was flagged"'):]
        card = card[: card.index("</ul>")]
        for reason in expected:
            assert reason.replace("'", "&#x27;").replace('"', "&quot;") in card, (page, reason)
