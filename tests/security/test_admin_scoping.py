"""The admin acts only in workspaces where the staff user holds the needed role."""
import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from pressroom.accounts.models import Membership, Workspace
from pressroom.audit.models import AuditEvent
from pressroom.jobs.models import Artifact, Job
from pressroom.safety.models import SafetyPolicy
from tests.factories import UserFactory
from tests.security.conftest import signed_in

pytestmark = pytest.mark.django_db(transaction=True)


def staff_viewer_of(workspace, *permissions: str):
    """A staff user with model permissions who is only a viewer in `workspace`."""
    user = UserFactory(username="operator", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=permissions))
    Membership.objects.create(user=user, workspace=workspace, role="viewer")
    return user


def test_an_admin_action_cannot_publish_in_another_workspace(tenants):
    alpha, bravo = tenants
    operator = staff_viewer_of(alpha.workspace, "view_artifact", "change_artifact")
    client = signed_in(operator)
    for action in ("publish", "approve", "reject"):
        page = client.post(reverse("admin:jobs_artifact_changelist"),
                           {"action": action, "_selected_action": [bravo.approved.pk, bravo.passed.pk]}, follow=True)
        assert "published." not in page.content.decode() and "approved." not in page.content.decode()
    assert Artifact.objects.get(pk=bravo.approved.pk).status == "approved"
    assert Artifact.objects.get(pk=bravo.passed.pk).status == "passed"


def test_a_viewer_cannot_publish_in_its_own_workspace_through_the_admin(tenants):
    alpha, _ = tenants
    operator = staff_viewer_of(alpha.workspace, "view_artifact", "change_artifact")
    page = signed_in(operator).post(reverse("admin:jobs_artifact_changelist"),
                                    {"action": "publish", "_selected_action": [alpha.approved.pk]}, follow=True)
    assert "needs the content:publish permission" in page.content.decode()
    assert Artifact.objects.get(pk=alpha.approved.pk).status == "approved"


def test_admin_lists_show_only_the_staff_users_workspaces(tenants):
    alpha, bravo = tenants
    operator = staff_viewer_of(alpha.workspace, "view_artifact", "view_job", "view_auditevent", "view_workspace",
                               "view_membership", "view_apikey", "view_safetypolicy", "view_safetyverdict")
    client = signed_in(operator)
    pages = {
        "admin:jobs_artifact_changelist": str(bravo.image.pk), "admin:jobs_job_changelist": str(bravo.job.pk),
        "admin:audit_auditevent_changelist": bravo.workspace.name, "admin:accounts_workspace_changelist": bravo.workspace.name,
        "admin:accounts_membership_changelist": "bravo-admin", "admin:accounts_apikey_changelist": bravo.workspace.name,
        "admin:safety_safetypolicy_changelist": bravo.workspace.name,
    }
    for name, secret in pages.items():
        page = client.get(reverse(name))
        assert page.status_code == 200, name
        assert secret not in page.content.decode(), name
    assert client.get(reverse("admin:jobs_artifact_change", args=[bravo.image.pk])).status_code in (302, 404)
    assert client.get(reverse("admin:jobs_job_change", args=[bravo.job.pk])).status_code in (302, 404)


def test_a_superuser_acts_everywhere(tenants, admin_client):
    _, bravo = tenants
    admin_client.post(reverse("admin:jobs_artifact_changelist"), {"action": "publish", "_selected_action": [bravo.approved.pk]})
    assert Artifact.objects.get(pk=bravo.approved.pk).status == "published"


def test_creating_a_workspace_and_a_policy_in_the_admin_goes_through_the_services(admin_client):
    admin_client.post(reverse("admin:accounts_workspace_add"), {"name": "Gamma", "slug": "gamma"})
    gamma = Workspace.objects.get(slug="gamma")
    assert AuditEvent.objects.filter(workspace=gamma, action="workspace.created").count() == 1
    admin_client.post(reverse("admin:accounts_workspace_change", args=[gamma.pk]), {"name": "Gamma Team"})
    assert AuditEvent.objects.get(workspace=gamma, action="workspace.renamed").data == {"before": "Gamma", "after": "Gamma Team"}
    response = admin_client.post(reverse("admin:safety_safetypolicy_add"), {
        "workspace": gamma.pk, "auto_approve": "on", "toxicity_flag_thresholds": '{"toxicity": 0.5}',
        "toxicity_block_thresholds": '{"toxicity": 0.85}', "pii_actions": '{"email": "flag"}', "banned_terms": '["cure"]', "competitor_names": "[]", "required_disclaimers": "{}",
        "max_chars": "", "nsfw_flag_threshold": "0.5", "nsfw_block_threshold": "0.85"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    policy = SafetyPolicy.objects.get(workspace=gamma)
    assert policy.auto_approve and policy.banned_terms == ["cure"]
    event = AuditEvent.objects.get(workspace=gamma, action="workspace.policy_changed")
    assert event.data["after"]["banned_terms"] == ["cure"]


def test_a_staff_user_cannot_add_members_where_they_are_not_admin(tenants):
    alpha, bravo = tenants
    operator = staff_viewer_of(alpha.workspace, "add_membership", "view_membership", "view_workspace", "view_user")
    stranger = UserFactory(username="stranger")
    signed_in(operator).post(reverse("admin:accounts_membership_add"),
                             {"user": stranger.pk, "workspace": alpha.workspace.pk, "role": "admin"})
    signed_in(operator).post(reverse("admin:accounts_membership_add"),
                             {"user": stranger.pk, "workspace": bravo.workspace.pk, "role": "admin"})
    assert not Membership.objects.filter(user=stranger).exists()
    assert not Job.objects.filter(workspace=bravo.workspace, campaign=None).exclude(pk=bravo.job.pk).exists()


def test_a_viewer_on_staff_gets_no_more_in_the_admin_than_in_the_dashboard(tenants):
    """Audit trail, API keys, members and policy need the same role as in the dashboard/API;
    renaming needs admin; policies and verdicts are never deleted."""
    alpha, _ = tenants
    operator = staff_viewer_of(alpha.workspace, "view_auditevent", "view_apikey", "view_membership", "view_safetypolicy",
                               "view_workspace", "change_workspace", "delete_safetypolicy", "delete_safetyverdict",
                               "view_safetyverdict")
    client = signed_in(operator)
    for name in ("admin:audit_auditevent_changelist", "admin:accounts_apikey_changelist",
                 "admin:accounts_membership_changelist", "admin:safety_safetypolicy_changelist"):
        assert alpha.workspace.name not in client.get(reverse(name)).content.decode().split("</h1>", 1)[-1], name
    client.post(reverse("admin:accounts_workspace_change", args=[alpha.workspace.pk]), {"name": "Pwned"})
    assert Workspace.objects.get(pk=alpha.workspace.pk).name == "Alpha"
    policy = SafetyPolicy.objects.get(workspace=alpha.workspace)
    client.post(reverse("admin:safety_safetypolicy_delete", args=[policy.pk]), {"post": "yes"})
    assert SafetyPolicy.objects.filter(pk=policy.pk).exists()
    from pressroom.safety.models import SafetyVerdict

    verdict = SafetyVerdict.objects.filter(workspace_id=alpha.workspace.pk).first()
    assert client.post(reverse("admin:safety_safetyverdict_delete", args=[verdict.pk]), {"post": "yes"}).status_code in (302, 403)
    assert SafetyVerdict.objects.filter(pk=verdict.pk).exists()


def test_people_of_other_workspaces_are_not_offered_in_the_member_picker(tenants):
    alpha, bravo = tenants
    operator = UserFactory(username="operator", is_staff=True)
    operator.user_permissions.set(Permission.objects.filter(codename__in=["view_user", "add_membership", "view_membership"]))
    Membership.objects.create(user=operator, workspace=alpha.workspace, role="admin")
    client = signed_in(operator)
    found = client.get("/admin/autocomplete/", {"app_label": "accounts", "model_name": "membership", "field_name": "user",
                                                 "term": "a"}).json()
    names = {item["text"] for item in found["results"]}
    assert "alpha-viewer" in names and not any(name.startswith("bravo") for name in names)
    assert "bravo-admin" not in client.get(reverse("admin:auth_user_changelist")).content.decode()


def test_a_refused_membership_deletion_is_a_message_not_an_error(tenants):
    alpha, _ = tenants
    operator = staff_viewer_of(alpha.workspace, "view_membership", "delete_membership")
    Membership.objects.filter(user=operator).update(role="reviewer")
    target = Membership.objects.get(user=alpha.viewer)
    response = signed_in(operator).post(reverse("admin:accounts_membership_delete", args=[target.pk]), {"post": "yes"})
    assert response.status_code in (302, 403, 404)
    assert Membership.objects.filter(pk=target.pk).exists()
