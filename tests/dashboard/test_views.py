"""The dashboard through Django's test client: roles enforced on the server, isolation
between workspaces, schema-driven forms with field messages, and every write going
through the services (so audited). The browser tests cover the same pages in chromium."""
import pytest
from django.forms import MultipleChoiceField
from django.urls import reverse
from pressroom.accounts.models import ApiKey
from pressroom.audit.models import AuditEvent
from pressroom.audit.services import SYSTEM
from pressroom.jobs.models import Artifact, Job
from pressroom.plugins.services import brand_voice_get, prompt_template_resolver
from pressroom.safety.models import SafetyPolicy
from pressroom.safety.services import safety_policy_get, safety_policy_update

from tests.factories import MembershipFactory, WorkspaceFactory, member
from pressroom.accounts.access import Access

pytestmark = pytest.mark.django_db


def url(name, workspace, *args):
    return reverse(f"dashboard:{name}", args=[workspace.slug, *args])


def test_pages_need_sign_in(client, workspace):
    response = client.get(url("catalogue", workspace))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_sign_in_lands_on_the_first_workspace(client, workspace, editor):
    response = client.post(reverse("dashboard:login"), {"username": "ed", "password": "correct horse battery staple"}, follow=True)
    assert response.redirect_chain[-1][0] == url("catalogue", workspace)
    assert b"Ad copy" in response.content


def test_another_workspace_is_not_found(client, editor):
    other = WorkspaceFactory()
    client.force_login(editor)
    assert client.get(url("catalogue", other)).status_code == 404
    assert client.get(reverse("dashboard:switch") + f"?to={other.slug}").status_code == 404


def test_an_artifact_of_another_workspace_is_not_found(client, reviewer, make_artifacts):
    artifact = make_artifacts("Fresh coffee, roasted daily.")[0]
    outsider_space = WorkspaceFactory()
    MembershipFactory(workspace=outsider_space, user=reviewer, role="reviewer")
    client.force_login(reviewer)
    assert client.get(url("artifact", outsider_space, artifact.pk)).status_code == 404
    assert client.post(url("artifact_approve", outsider_space, artifact.pk)).status_code == 404
    artifact.refresh_from_db()
    assert artifact.status == "passed"


def test_the_form_comes_from_the_use_case_schema(client, workspace, editor):
    client.force_login(editor)
    page = client.get(url("job_new", workspace, "marketing.ad_copy")).content.decode()
    assert 'name="product"' in page and 'name="channels"' in page and 'value="search"' in page
    assert 'name="variants"' in page and 'max="4"' in page


def test_invalid_input_shows_field_messages_and_writes_nothing(client, workspace, editor):
    client.force_login(editor)
    response = client.post(url("job_new", workspace, "marketing.ad_copy"),
                           {"product": "Trail shoes", "variants": "9", "priority": "5"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "less than or equal to 4" in errors["variants"][0]
    assert "channels" in errors
    assert not Job.objects.exists() and not AuditEvent.objects.filter(action="job.created").exists()


def test_inline_validation_speaks_about_touched_fields_only(client, workspace, editor):
    client.force_login(editor)
    response = client.post(url("job_validate", workspace, "marketing.ad_copy"), {"variants": "9", "_touched": "variants"},
                           headers={"HX-Request": "true"})
    page = response.content.decode()
    assert 'id="err-variants"' in page and "less than or equal to 4" in page
    # `product` is required but untouched: its error slot is sent empty.
    assert 'id="err-product" aria-live="polite" hx-swap-oob="true"></div>' in page


def test_inline_validation_speaks_about_a_required_field_just_emptied(client, workspace, editor):
    client.force_login(editor)
    page = client.post(url("job_validate", workspace, "marketing.ad_copy"), {"product": "", "_touched": "product"}).content.decode()
    assert 'id="err-product" aria-live="polite" hx-swap-oob="true"><p>Field required</p>' in page


def test_json_fields_refuse_nan_and_deep_nesting(client, workspace, editor):
    client.force_login(editor)
    for bad in ('{"a": NaN}', "[" * 5000 + "]" * 5000):
        response = client.post(url("job_new", workspace, "recommendation.personalised"), {"catalog": bad, "customers": "[]"})
        assert response.status_code == 400
        assert "Not valid JSON" in response.content.decode()
    assert not Job.objects.exists()


def test_switching_workspace_needs_sign_in(client):
    response = client.get(reverse("dashboard:switch") + "?to=anything")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_valid_form_creates_an_audited_job(client, workspace, editor):
    client.force_login(editor)
    response = client.post(url("job_new", workspace, "marketing.ad_copy"),
                           {"product": "Trail shoes", "channels": ["search", "social"], "variants": "1", "priority": "7"})
    job = Job.objects.get()
    assert response["Location"] == url("job", workspace, job.pk)
    assert job.input["channels"] == ["search", "social"] and job.priority == 7 and job.created_by == editor
    assert AuditEvent.objects.filter(action="job.created", object_id=str(job.pk), actor_label="ed").exists()


def test_a_blocked_prompt_is_refused_with_the_rule(client, workspace, editor):
    safety_policy_update(access=Access.system(workspace), banned_terms=["rivalcola"])
    client.force_login(editor)
    response = client.post(url("job_new", workspace, "marketing.ad_copy"),
                           {"product": "Better than R1valCola", "channels": ["search"], "priority": "5"})
    assert response.status_code == 400
    assert "rivalcola" in response.content.decode().lower()
    assert not Job.objects.exists()


def test_a_viewer_cannot_create_jobs(client, workspace, viewer):
    client.force_login(viewer)
    assert client.get(url("job_new", workspace, "marketing.ad_copy")).status_code == 403
    response = client.post(url("job_new", workspace, "marketing.ad_copy"), {"product": "x", "channels": ["search"], "priority": "5"})
    assert response.status_code == 403 and not Job.objects.exists()


def test_an_editor_sees_no_approve_button_and_a_forged_approve_is_refused(client, workspace, editor, make_artifacts):
    artifact = make_artifacts("Fresh coffee, roasted daily.")[0]
    client.force_login(editor)
    page = client.get(url("job", workspace, artifact.job_id)).content.decode()
    assert "Fresh coffee" in page and 'data-action="approve"' not in page
    response = client.post(url("artifact_approve", workspace, artifact.pk), {"comment": "sneaky"})
    assert response.status_code == 403
    artifact.refresh_from_db()
    assert artifact.status == "passed"
    assert not AuditEvent.objects.filter(action="artifact.approved").exists()


def test_review_queue_highlights_the_flagged_span(client, workspace, reviewer, make_artifacts):
    safety_policy_update(access=Access.system(workspace), competitor_names=["Rivalcola"])
    artifact = make_artifacts("Tastier than Rivalcola, every day.")[0]
    assert Artifact.objects.get(pk=artifact.pk).status == "flagged"
    client.force_login(reviewer)
    page = client.get(url("review", workspace)).content.decode()
    assert '<mark class="flagged"' in page and ">Rivalcola</mark>" in page
    assert "competitor" in page.lower()


def test_reviewer_approves_then_publishes_through_the_services(client, workspace, reviewer, make_artifacts):
    artifact = make_artifacts("Fresh coffee, roasted daily.")[0]
    client.force_login(reviewer)
    client.post(url("artifact_approve", workspace, artifact.pk), {"comment": "Good to go"})
    client.post(url("artifact_publish", workspace, artifact.pk))
    artifact.refresh_from_db()
    assert artifact.status == "published"
    actions = list(AuditEvent.objects.filter(object_id=str(artifact.pk)).values_list("action", flat=True))
    assert actions[-2:] == ["artifact.approved", "artifact.published"]
    timeline = client.get(url("artifact", workspace, artifact.pk)).content.decode()
    assert "Artifact approved" in timeline and "Good to go" in timeline and "Artifact published" in timeline


def test_publishing_an_unreviewed_flagged_artifact_is_refused(client, workspace, reviewer, make_artifacts):
    safety_policy_update(access=Access.system(workspace), competitor_names=["Rivalcola"])
    artifact = make_artifacts("Tastier than Rivalcola.")[0]
    client.force_login(reviewer)
    response = client.post(url("artifact_publish", workspace, artifact.pk), follow=True)
    assert "Cannot publish" in response.content.decode()
    artifact.refresh_from_db()
    assert artifact.status == "flagged"


def test_reject_needs_a_comment(client, workspace, reviewer, make_artifacts):
    artifact = make_artifacts("Fresh coffee.")[0]
    client.force_login(reviewer)
    response = client.post(url("artifact_reject", workspace, artifact.pk), {"comment": ""}, follow=True)
    assert "needs a comment" in response.content.decode()
    artifact.refresh_from_db()
    assert artifact.status == "passed"


def test_edit_makes_a_new_revision(client, workspace, reviewer, make_artifacts, django_capture_on_commit_callbacks):
    artifact = make_artifacts("Fresh coffee.")[0]
    client.force_login(reviewer)
    response = client.post(url("artifact_edit", workspace, artifact.pk), {"text": "Fresh coffee, roasted daily.", "comment": "tighter"})
    revision = Artifact.objects.get(job=artifact.job, revision=2)
    assert response["Location"] == url("artifact", workspace, revision.pk)
    assert revision.text == "Fresh coffee, roasted daily."


def test_brand_settings_are_admin_only_and_saved_through_services(client, workspace, reviewer, admin_member):
    client.force_login(reviewer)
    assert client.get(url("settings", workspace)).status_code == 403
    client.force_login(admin_member)
    client.post(url("settings", workspace), {"save_voice": "1", "tone": "warm", "audience": "runners",
                                             "words_to_avoid": "cheap\nbargain", "phrases_to_include": ""})
    voice = brand_voice_get(workspace_id=workspace.pk)
    assert voice.version == 1 and voice.words_to_avoid == ["cheap", "bargain"]
    template = prompt_template_resolver(workspace.pk)("marketing.ad_copy.system", "You write ads. {voice}")
    assert "Tone: warm." in template.render() and template.provenance["brand_voice_version"] == 1
    client.post(url("settings", workspace), {"save_policy": "1", "auto_approve": "on", "banned_terms": "rivalcola",
                                             "competitor_names": "", "required_disclaimers": "marketing.ad_copy: Terms apply.",
                                             "max_chars": "", "toxicity_flag": "0.4", "toxicity_block": "0.9"})
    policy = SafetyPolicy.objects.get(workspace=workspace)
    assert policy.auto_approve and policy.banned_terms == ["rivalcola"]
    assert policy.required_disclaimers == {"marketing.ad_copy": ["Terms apply."]}
    assert set(policy.toxicity_flag_thresholds.values()) == {0.4}
    assert AuditEvent.objects.filter(action="workspace.policy_changed").exists()


def test_saving_the_policy_keeps_thresholds_it_did_not_change(client, workspace, admin_member):
    safety_policy_update(access=Access.system(workspace), toxicity_flag_thresholds={
        **safety_policy_get(workspace=workspace).toxicity_flag_thresholds, "insult": 0.3})
    client.force_login(admin_member)
    form = client.get(url("settings", workspace)).context["policy_form"]
    data = {name: form[name].value() for name in form.fields}
    # Lines fields take their list as lines; checkbox groups post each ticked value.
    multiple = {name for name, field in form.fields.items() if isinstance(field, MultipleChoiceField)}
    data = {k: (v if k in multiple else "\n".join(v) if isinstance(v, list) else "" if v is None else v)
            for k, v in data.items() if v is not False}
    data.update({"save_policy": "1", "banned_terms": "rivalcola"})
    client.post(url("settings", workspace), data)
    policy = SafetyPolicy.objects.get(workspace=workspace)
    assert policy.banned_terms == ["rivalcola"] and policy.toxicity_flag_thresholds["insult"] == 0.3
    event = AuditEvent.objects.filter(action="workspace.policy_changed").last()
    assert set(event.data["after"]) == {"banned_terms"}


def test_an_overlong_review_comment_changes_nothing(client, workspace, reviewer, make_artifacts):
    artifact = make_artifacts("Fresh coffee.")[0]
    client.force_login(reviewer)
    response = client.post(url("artifact_reject", workspace, artifact.pk), {"comment": "x" * 2001}, follow=True)
    assert "Nothing was changed" in response.content.decode()
    artifact.refresh_from_db()
    assert artifact.status == "passed"


def test_an_invalid_threshold_is_a_field_message(client, workspace, admin_member):
    client.force_login(admin_member)
    response = client.post(url("settings", workspace), {"save_policy": "1", "toxicity_flag": "3", "toxicity_block": "0.9"})
    assert response.status_code == 400
    assert "less than or equal to 1" in response.content.decode()


def test_api_key_token_is_shown_once_and_revocation_is_audited(client, workspace, admin_member, editor):
    client.force_login(editor)
    assert client.post(url("api_keys", workspace), {"name": "cms"}).status_code == 403
    client.force_login(admin_member)
    page = client.post(url("api_keys", workspace), {"name": "cms", "scopes": ["content:read"]}).content.decode()
    key = ApiKey.objects.get(workspace=workspace)
    assert f"pr_{key.prefix}_" in page and "shown only once" in page
    assert f"pr_{key.prefix}_" not in client.get(url("api_keys", workspace)).content.decode().replace(f"pr_{key.prefix}_…", "")
    client.post(url("api_key_revoke", workspace, key.pk))
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_key.revoked", object_id=str(key.pk)).exists()


def test_job_live_partial_stops_polling_when_settled(client, workspace, editor, make_artifacts):
    artifact = make_artifacts("Fresh coffee.")[0]
    client.force_login(editor)
    response = client.get(url("job_live", workspace, artifact.job_id), headers={"HX-Request": "true"})
    assert response.status_code == 286
    assert 'data-testid="progress-percent">100 %' in response.content.decode()


def test_image_variants_show_thumbnails_that_open_full_size(client, workspace, editor):
    import io

    from PIL import Image
    from pressroom.audit.services import Actor
    from pressroom.jobs import services as jobs
    from pressroom.plugins import ArtifactDraft, ModelProvenance

    png = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 40, 40)).save(png, format="PNG")
    job = jobs.job_create(access=Access.system(workspace), use_case_key="core.image", input={"prompt": "a red square", "width": 64, "height": 64})
    jobs.job_start(job=job, worker="w")
    provenance = ModelProvenance(alias="image-default", source="tiny-sd", revision="sha256:0", batch_id="b", placeholder=True)
    jobs.job_succeed(job=job, drafts=[ArtifactDraft(kind="image", variant_index=0, png=png.getvalue(), params={}, provenance=provenance)],
                     actor=Actor.worker("w"))
    artifact = job.artifacts.get()
    client.force_login(editor)
    page = client.get(url("job", workspace, job.pk)).content.decode()
    assert f'<img class="thumb" src="{artifact.file_url}"' in page and f'href="{artifact.file_url}"' in page
    assert "placeholder model" in page
    image = client.get(artifact.file_url)
    assert image.status_code == 200 and b"".join(image.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"

    # Files are for the workspace: its members and its API keys with content:read.
    from django.test import Client
    from pressroom.accounts.services import api_key_create

    assert Client().get(artifact.file_url).status_code == 404
    outsider = Client()
    outsider.force_login(member(WorkspaceFactory(), "admin", "outsider"))
    assert outsider.get(artifact.file_url).status_code == 404
    _, reader = api_key_create(access=Access.system(workspace), name="cms", scopes=["content:read"])
    _, writer = api_key_create(access=Access.system(workspace), name="bot", scopes=["jobs:write"])
    assert Client().get(artifact.file_url, headers={"Authorization": f"Bearer {reader}"}).status_code == 200
    assert Client().get(artifact.file_url, headers={"Authorization": f"Bearer {writer}"}).status_code == 404


def test_plugin_widgets_are_rendered_on_the_catalogue_and_a_failing_one_is_left_out(client, viewer, workspace, settings):
    from pathlib import Path

    from pressroom.plugins import hooks
    from tests.dummy_plugin.apps import widget

    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"],
                                                              Path(__file__).parents[1] / "dummy_plugin" / "templates"]}]
    seen = []

    def broken(workspace):
        raise RuntimeError("plugin bug")

    def recording(workspace):
        seen.append(workspace)
        return widget(workspace)

    client.force_login(viewer)
    with hooks.register_temporarily("dashboard_widgets", recording), hooks.register_temporarily("dashboard_widgets", broken):
        page = client.get(reverse("dashboard:catalogue", args=[workspace.slug]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Dummy widget" in html and '<p class="dummy-answer">The answer is 42.</p>' in html
    assert seen == [workspace.slug]


def test_the_quality_settings_are_on_the_brand_and_safety_page(client, workspace, admin_member):
    client.force_login(admin_member)
    page = client.get(url("settings", workspace))
    assert "Unsupported fact" in page.content.decode() and "Extra hashtags allowed" in page.content.decode()
    form = page.context["policy_form"]
    checks = [name for name, _ in form.fields["quality_checks"].choices]
    assert "quality_placeholder" in checks and "quality_language" in checks
    kept = [name for name in checks if name != "quality_language"]
    response = client.post(url("settings", workspace), {
        "save_policy": "1", "toxicity_flag": form["toxicity_flag"].value(), "toxicity_block": form["toxicity_block"].value(),
        "quality_enabled": "on", "quality_checks": kept, "quality_fact_types": ["url", "price"],
        "quality_extra_hashtags_allowed": "2"})
    assert response.status_code in (200, 302)
    policy = SafetyPolicy.objects.get(workspace=workspace)
    assert policy.quality_disabled_checks == ["quality_language"]
    assert policy.quality_fact_types == ["url", "price"] and policy.quality_extra_hashtags_allowed == 2
    assert policy.quality_enabled
    client.post(url("settings", workspace), {
        "save_policy": "1", "toxicity_flag": form["toxicity_flag"].value(), "toxicity_block": form["toxicity_block"].value(),
        "quality_checks": kept, "quality_fact_types": ["url", "price"], "quality_extra_hashtags_allowed": "2"})
    assert SafetyPolicy.objects.get(workspace=workspace).quality_enabled is False
