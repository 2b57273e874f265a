"""Issue 11 polish: the first-run page, CRLF edits, the Input panel as JSON, long tokens
wrapping, field labels and hints, and structured fields that accept what their hint shows."""
import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from pressroom.accounts.models import Membership, Role, Workspace
from pressroom.audit.models import AuditEvent
from pressroom.jobs.models import Artifact, Job
from pressroom.dashboard.forms import PairsField, UseCaseForm
from pressroom.jobs.validation import use_case_get

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CSS = Path(__file__).resolve().parents[2] / "platform/pressroom/dashboard/static/dashboard/app.css"


def url(name, workspace, *args):
    return reverse(f"dashboard:{name}", args=[workspace.slug, *args])


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "correct horse battery staple")


# -- first run ------------------------------------------------------------------------
def test_a_superuser_without_workspaces_lands_on_the_first_run_page(client, superuser):
    client.force_login(superuser)
    response = client.get(reverse("dashboard:home"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard:first_run")
    page = response.content.decode()
    assert response.status_code == 200 and 'data-testid="first-run"' in page
    assert f'href="{reverse("admin:index")}"' in page


def test_the_first_run_page_creates_the_workspace_with_the_superuser_as_admin(client, superuser):
    client.force_login(superuser)
    response = client.post(reverse("dashboard:first_run"), {"name": "Acme Marketing", "slug": ""})
    workspace = Workspace.objects.get()
    assert workspace.slug == "acme-marketing" and response["Location"] == url("catalogue", workspace)
    assert Membership.objects.get(workspace=workspace).role == Role.ADMIN
    actions = set(AuditEvent.objects.filter(workspace=workspace).values_list("action", flat=True))
    assert {"workspace.created", "membership.added"} <= actions
    # Once a workspace exists, the page sends everyone home.
    assert client.get(reverse("dashboard:first_run"))["Location"] == reverse("dashboard:home")


def test_the_first_run_page_shows_the_service_refusal_on_the_field(client, superuser):
    client.force_login(superuser)
    response = client.post(reverse("dashboard:first_run"), {"name": "!!!", "slug": ""})
    assert response.status_code == 400 and not Workspace.objects.exists()
    assert response.context["form"].errors["name"]


def test_a_member_of_nothing_reads_a_page_that_says_to_ask_an_administrator(client):
    nobody = UserFactory(username="newbie")
    client.force_login(nobody)
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 200
    assert "Ask an administrator" in response.content.decode()
    assert client.get(reverse("dashboard:first_run"))["Location"] == reverse("dashboard:home")
    client.post(reverse("dashboard:first_run"), {"name": "Mine"})
    assert not Workspace.objects.exists()


# -- text normalised to \n -------------------------------------------------------------
def test_a_crlf_edit_through_the_dashboard_is_stored_with_lf(client, workspace, reviewer, make_artifacts,
                                                              django_capture_on_commit_callbacks):
    artifact = make_artifacts("Fresh coffee.")[0]
    client.force_login(reviewer)
    client.post(url("artifact_edit", workspace, artifact.pk), {"text": "Fresh coffee.\r\nRoasted daily.\rEvery day.", "comment": ""})
    revision = Artifact.objects.get(job=artifact.job, revision=2)
    assert revision.text == "Fresh coffee.\nRoasted daily.\nEvery day."
    edited = AuditEvent.objects.get(action="artifact.edited")
    assert "\r" not in edited.data["after"]


def test_job_input_strings_are_stored_with_lf(client, workspace, editor):
    client.force_login(editor)
    client.post(url("job_new", workspace, "core.text"), {"prompt": "Line one\r\nLine two", "priority": "5"})
    assert Job.objects.get().input["prompt"] == "Line one\nLine two"


# -- the Input panel and long tokens ------------------------------------------------------
def test_the_input_panel_shows_pretty_json(client, workspace, editor):
    client.force_login(editor)
    client.post(url("job_new", workspace, "core.text"), {"prompt": "Café crème", "priority": "5"})
    job = Job.objects.get()
    response = client.get(url("job", workspace, job.pk))
    shown = response.context["input_json"]
    assert json.loads(shown) == job.input and shown.startswith("{\n  ") and "Café crème" in shown
    page = response.content.decode()
    assert 'data-testid="job-input"' in page and "&#x27;prompt&#x27;" not in page  # no Python repr


def test_long_tokens_wrap_in_cards_and_pre_blocks():
    css = CSS.read_text()
    assert "overflow-wrap: anywhere" in css
    assert ".variants > li, .card" in css and "pre { white-space: pre-wrap; overflow-wrap: anywhere; }" in css


# -- labels and hints ---------------------------------------------------------------------------
def _form(use_case_key, data=None):
    return UseCaseForm(data, schema=use_case_get(use_case_key).input_json_schema())


def test_labels_spell_initialisms_as_initials():
    assert _form("design.banner").fields["cta"].label == "CTA"
    assert _form("recommendation.personalised").fields["catalog_csv"].label == "Catalog CSV"


def test_the_customers_field_shows_a_real_example():
    help_text = _form("recommendation.personalised").fields["customers"].help_text
    example = json.loads(help_text[help_text.index("["):])
    assert example[0]["events"][0]["type"] == "purchase"


def test_the_attributes_hint_is_in_the_format_the_field_parses():
    field = _form("marketing.product_description").fields["attributes"]
    example = field.help_text.split("e.g. ")[1]
    assert field.clean(example) == {"material": "recycled wool"}


# -- structured fields -----------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("material: recycled wool\nfit: relaxed", {"material": "recycled wool", "fit": "relaxed"}),
    ('{"material": "recycled wool", "weight_g": 320}', {"material": "recycled wool", "weight_g": "320"}),
    ("  \nmaterial: recycled wool\n", {"material": "recycled wool"}),
])
def test_pairs_accept_lines_and_a_json_object(text, expected):
    assert PairsField(required=False).clean(text) == expected


@pytest.mark.parametrize(("text", "fragment"), [
    ("{'material': 'recycled wool'}", "not valid JSON"),
    ('{"material": {"outer": "wool"}}', "plain values"),
    ("'material': 'recycled wool'", "no braces or quotes"),
    ("material: recycled wool}", "no braces or quotes"),
    ("just some words", "write it as 'name: value'"),
])
def test_pairs_refuse_what_would_be_garbage_with_a_clear_message(text, fragment):
    from django import forms

    with pytest.raises(forms.ValidationError) as error:
        PairsField(required=False).clean(text)
    assert fragment in error.value.messages[0]


def test_the_product_form_refuses_the_old_hint_format_on_the_field(client, workspace, editor):
    client.force_login(editor)
    response = client.post(url("job_new", workspace, "marketing.product_description"),
                           {"name": "Wool jumper", "attributes": "{'material': 'recycled wool'}", "priority": "5"})
    assert response.status_code == 400 and "not valid JSON" in response.context["form"].errors["attributes"][0]
    assert not Job.objects.exists()


# -- verbose names -----------------------------------------------------------------------------
def test_the_admin_index_reads_proper_names(client, superuser):
    client.force_login(superuser)
    page = client.get(reverse("admin:index")).content.decode()
    assert "API keys" in page and "Safety policies" in page
    assert "Api keys" not in page and "policys" not in page and "deliverys" not in page
