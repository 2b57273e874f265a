"""Artifact screening, review and publication through the services, the admin and SQL."""
import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from pressroom.audit.models import AuditEvent
from pressroom.audit.services import SYSTEM
from pressroom.accounts.access import Access
from pressroom.core.errors import InputInvalid, InvalidTransition, NotAllowed
from pressroom.jobs.models import Artifact
from pressroom.jobs.services import (
    artifact_approve,
    artifact_edit,
    artifact_publish,
    artifact_reject,
    artifacts_screen,
    job_create,
)
from pressroom.safety.models import SafetyVerdict
from pressroom.safety.services import InputBlocked, safety_policy_update
from tests.factories import UserFactory, access_of

pytestmark = pytest.mark.django_db(transaction=True)

CLEAN = "Fresh bread every morning at our bakery."
# Scores between the default flag (0.5) and block (0.85) thresholds of the baseline.
TOXIC = "damn, what a deal"
BANNED = "Our tea is a guaranteed cure for colds."


def screened(*artifacts):
    artifacts_screen(artifact_ids=[a.pk for a in artifacts])
    return [Artifact.objects.get(pk=a.pk) for a in artifacts]


def actions_for(artifact) -> list[str]:
    return list(AuditEvent.objects.filter(object_type="artifact", object_id=str(artifact.pk)).values_list("action", flat=True))


@pytest.fixture
def with_banned_terms(workspace):
    safety_policy_update(access=Access.system(workspace), banned_terms=["guaranteed cure"])


def test_screening_sorts_artifacts_into_passed_flagged_blocked(make_artifacts, with_banned_terms):
    clean, toxic, banned = screened(*make_artifacts(CLEAN, TOXIC, BANNED))
    assert (clean.status, toxic.status, banned.status) == ("passed", "flagged", "blocked")
    assert banned.safety_decision == "block"
    verdicts = {v.check_name: v for v in SafetyVerdict.objects.filter(artifact=toxic)}
    assert set(verdicts) >= {"toxicity", "pii", "brand"}  # plus any plugin checks
    assert verdicts["toxicity"].evidence[0]["text"] == TOXIC and verdicts["toxicity"].scored_by
    assert actions_for(banned) == ["artifact.created", "artifact.screened", "artifact.blocked"]


def test_auto_approve_policy_approves_only_passed_artifacts(workspace, make_artifacts):
    safety_policy_update(access=Access.system(workspace), auto_approve=True)
    clean, toxic = screened(*make_artifacts(CLEAN, TOXIC))
    assert clean.status == "approved" and clean.reviewed_by is None
    assert toxic.status == "flagged"
    assert actions_for(clean)[-1] == "artifact.approved"


def test_reviewer_approves_flagged_artifact_then_publishes(make_artifacts, reviewer):
    (toxic,) = screened(*make_artifacts(TOXIC))
    approved = artifact_approve(artifact=toxic, access=access_of(reviewer, toxic.workspace), comment="Quoting a customer, fine")
    assert approved.status == "approved" and approved.reviewed_by == reviewer
    published = artifact_publish(artifact=approved, access=Access.system(approved.workspace))
    assert published.status == "published" and published.published_at
    assert actions_for(toxic)[-2:] == ["artifact.approved", "artifact.published"]


def test_editor_cannot_review(make_artifacts, editor):
    (clean,) = screened(*make_artifacts(CLEAN))
    with pytest.raises(NotAllowed):
        artifact_approve(artifact=clean, access=access_of(editor, clean.workspace))
    assert Artifact.objects.get(pk=clean.pk).status == "passed"


def test_blocked_artifact_can_never_be_approved_or_published(make_artifacts, reviewer, with_banned_terms):
    (banned,) = screened(*make_artifacts(BANNED))
    for attempt in (
        lambda: artifact_approve(artifact=banned, access=access_of(reviewer, banned.workspace)),
        lambda: artifact_publish(artifact=banned, access=Access.system(banned.workspace)),
        lambda: artifact_edit(artifact=banned, access=access_of(reviewer, banned.workspace), text="Our tea is nice."),
    ):
        with pytest.raises(InvalidTransition, match="blocked"):
            attempt()
    assert Artifact.objects.get(pk=banned.pk).status == "blocked"


def test_unreviewed_flagged_and_screening_artifacts_cannot_be_published(make_artifacts):
    unscreened, toxic = make_artifacts(CLEAN, TOXIC)
    screened(toxic)
    for artifact in (unscreened, toxic):
        with pytest.raises(InvalidTransition, match="allowed from approved"):
            artifact_publish(artifact=artifact, access=Access.system(artifact.workspace))


def test_database_refuses_to_approve_a_blocked_artifact_whatever_the_code(make_artifacts, reviewer, with_banned_terms):
    (banned,) = screened(*make_artifacts(BANNED))
    for status in ("approved", "published"):
        # The lifecycle trigger refuses first; the check constraint stands behind it.
        with pytest.raises(IntegrityError, match="cannot approve from blocked|only an approved artifact is published"), \
                transaction.atomic():
            Artifact.objects.filter(pk=banned.pk).update(status=status, reviewed_by=reviewer)


def test_database_refuses_to_publish_flagged_without_a_reviewer(make_artifacts):
    (toxic,) = screened(*make_artifacts(TOXIC))
    with pytest.raises(IntegrityError, match="only an approved artifact is published"), transaction.atomic():
        Artifact.objects.filter(pk=toxic.pk).update(status="published")


def test_reject_needs_a_comment(make_artifacts, reviewer):
    (clean,) = screened(*make_artifacts(CLEAN))
    with pytest.raises(InputInvalid):
        artifact_reject(artifact=clean, access=access_of(reviewer, clean.workspace), comment=" ")
    rejected = artifact_reject(artifact=clean, access=access_of(reviewer, clean.workspace), comment="Off brand")
    assert rejected.status == "rejected"
    with pytest.raises(InvalidTransition):
        artifact_publish(artifact=rejected, access=Access.system(rejected.workspace))


def test_edit_makes_a_new_revision_that_is_screened_again(make_artifacts, reviewer):
    (toxic,) = screened(*make_artifacts(TOXIC))
    revision = artifact_edit(artifact=toxic, access=access_of(reviewer, toxic.workspace), text="You deserve a treat.")
    assert (revision.revision, revision.revision_of_id, revision.status) == (2, toxic.pk, "screening")
    assert Artifact.objects.get(pk=toxic.pk).status == "rejected"
    (revision,) = screened(revision)
    assert revision.status == "passed"
    assert actions_for(revision) == ["artifact.edited", "artifact.screened", "artifact.passed"]
    assert artifact_approve(artifact=revision, access=access_of(reviewer, revision.workspace)).status == "approved"


def test_redact_policy_replaces_pii_in_a_new_screened_revision(workspace, make_artifacts):
    safety_policy_update(access=Access.system(workspace), pii_actions={"email": "redact", "phone": "redact", "card": "block", "iban": "block"})
    (original,) = screened(*make_artifacts("Questions? Mail sales@example.com today."))
    original.refresh_from_db()
    assert original.status == "rejected" and "redacted revision 2" in original.review_comment
    revision = Artifact.objects.get(revision_of=original)
    assert revision.text == "Questions? Mail [EMAIL] today."
    (revision,) = screened(revision)
    assert revision.status == "passed"
    assert "artifact.redacted" in actions_for(revision)


def test_blocked_input_is_refused_naming_the_rule(workspace, with_banned_terms):
    with pytest.raises(InputBlocked) as error:
        job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "Say our tea is a guaranteed cure"})
    assert "Blocked by brand: banned term 'guaranteed cure'" in error.value.field_errors["prompt"][0]
    assert not workspace.jobs.exists()
    assert AuditEvent.objects.filter(workspace=workspace, action="job.input_blocked").count() == 1


def test_flagged_input_is_accepted_and_its_verdicts_kept(workspace):
    job = job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "Thank jane@example.com for her order"})
    assert {v.check_name: v.decision for v in job.input_verdicts.all()}["pii"] == "flag"


@pytest.fixture
def admin_client_for(client):
    operator = UserFactory(username="operator", is_staff=True, is_superuser=True)
    client.force_login(operator)
    return client


def test_admin_publish_action_refuses_blocked_and_unreviewed(admin_client_for, make_artifacts, with_banned_terms):
    banned, toxic = screened(*make_artifacts(BANNED, TOXIC))
    response = admin_client_for.post(
        reverse("admin:jobs_artifact_changelist"),
        {"action": "publish", "_selected_action": [str(banned.pk), str(toxic.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "blocked by the safety stage" in text and "allowed from approved" in text
    assert {a.status for a in Artifact.objects.filter(pk__in=[banned.pk, toxic.pk])} == {"blocked", "flagged"}


def test_admin_approve_action_refuses_blocked(admin_client_for, make_artifacts, with_banned_terms):
    (banned,) = screened(*make_artifacts(BANNED))
    admin_client_for.post(reverse("admin:jobs_artifact_changelist"), {"action": "approve", "_selected_action": [str(banned.pk)]})
    assert Artifact.objects.get(pk=banned.pk).status == "blocked"


def test_worker_input_rescreen_blocks_and_keeps_verdicts(workspace):
    from pressroom.safety.services import jobs_input_rescreen

    job = job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "Write about tea"})
    # The policy tightens between submission and the worker picking the job up.
    safety_policy_update(access=Access.system(workspace), banned_terms=["tea"])
    blocked = jobs_input_rescreen(jobs=[job])
    assert "banned term 'tea'" in blocked[job.pk] and "(prompt)" in blocked[job.pk]
    assert job.input_verdicts.filter(check_name="brand", decision="block").exists()
