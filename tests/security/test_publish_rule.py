"""The database keeps the publish rule: every illegal artifact transition is refused by
PostgreSQL, whether it comes as raw SQL or through the ORM (save, update, bulk_update),
and the feed only ever holds published artifacts."""
import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from pressroom.accounts.access import Access
from pressroom.core.errors import InvalidTransition
from pressroom.jobs.models import Artifact
from pressroom.publishing.models import PublishedItem
from pressroom.publishing.services import feed_append

pytestmark = pytest.mark.django_db(transaction=True)

# (which artifact, the columns an attacker sets)
ILLEGAL = [
    ("blocked", {"status": "approved"}),
    ("blocked", {"status": "published", "published_at": "now"}),
    ("blocked", {"safety_decision": "pass"}),
    ("blocked", {"safety_decision": "pass", "status": "published", "published_at": "now"}),
    ("passed", {"status": "published", "published_at": "now"}),
    ("passed", {"status": "approved"}),  # no reviewer, and the workspace does not approve automatically
    ("flagged", {"status": "approved"}),  # a flagged artifact needs a reviewer
    ("flagged", {"status": "published", "published_at": "now"}),
    ("flagged", {"safety_decision": "pass"}),
    ("approved", {"status": "published"}),  # no publication time
    ("approved", {"status": "screening"}),
    ("published", {"status": "approved", "published_at": None}),
    ("published", {"text": "Something else entirely"}),
    ("rejected", {"status": "approved"}),
    ("rejected", {"status": "published", "published_at": "now"}),
]


def _value(value):
    return timezone.now() if value == "now" else value


def _rejected(tenant):
    from pressroom.jobs.services import artifact_reject
    from tests.factories import access_of

    artifact = Artifact.objects.get(pk=tenant.passed.pk)
    if artifact.status == "rejected":
        return artifact
    return artifact_reject(artifact=artifact, access=access_of(tenant.admin, tenant.workspace), comment="Off brand")


def _target(tenant, kind: str) -> Artifact:
    return _rejected(tenant) if kind == "rejected" else getattr(tenant, kind)


def _by_sql(artifact, changes):
    columns = ", ".join(f"{name} = %s" for name in changes)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE jobs_artifact SET {columns} WHERE id = %s", [*map(_value, changes.values()), artifact.pk])


def _by_save(artifact, changes):
    for name, value in changes.items():
        setattr(artifact, name, _value(value))
    artifact.save()


def _by_update(artifact, changes):
    Artifact.objects.filter(pk=artifact.pk).update(**{k: _value(v) for k, v in changes.items()})


def _by_bulk_update(artifact, changes):
    for name, value in changes.items():
        setattr(artifact, name, _value(value))
    Artifact.objects.bulk_update([artifact], fields=list(changes))


WRITERS = {"raw SQL": _by_sql, "save()": _by_save, "update()": _by_update, "bulk_update()": _by_bulk_update}


@pytest.mark.parametrize("writer", WRITERS)
def test_every_illegal_transition_is_refused_by_the_database(tenants, writer):
    alpha, _ = tenants
    accepted = []
    for kind, changes in ILLEGAL:
        artifact = Artifact.objects.get(pk=_target(alpha, kind).pk)
        before = (artifact.status, artifact.safety_decision, artifact.text)
        try:
            with transaction.atomic():
                WRITERS[writer](artifact, changes)
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # deferred checks run now, as at commit
            accepted.append((kind, changes))
        except IntegrityError:
            pass
        after = Artifact.objects.values_list("status", "safety_decision", "text").get(pk=artifact.pk)
        assert after == before, (kind, changes)
    assert accepted == []


def test_an_artifact_is_never_created_already_approved_or_published(tenants):
    alpha, _ = tenants
    for status, decision in (("published", "pass"), ("approved", "pass"), ("passed", "pass")):
        with pytest.raises(IntegrityError, match="created in screening"), transaction.atomic():
            Artifact.objects.create(job=alpha.job, workspace=alpha.workspace, kind="text", variant_index=40, text="x",
                                    status=status, safety_decision=decision, published_at=timezone.now())


def test_publishing_without_a_feed_row_is_refused_at_commit(tenants):
    alpha, _ = tenants
    with pytest.raises(IntegrityError, match="without its feed row"), transaction.atomic():
        Artifact.objects.filter(pk=alpha.approved.pk).update(status="published", published_at=timezone.now())
    assert Artifact.objects.get(pk=alpha.approved.pk).status == "approved"


def test_a_feed_row_only_for_a_published_artifact(tenants):
    alpha, bravo = tenants
    for artifact in (alpha.approved, alpha.passed, alpha.flagged, alpha.blocked):
        with pytest.raises(InvalidTransition), transaction.atomic():
            feed_append(artifact=artifact)
        with pytest.raises(IntegrityError, match="not published"), transaction.atomic():
            PublishedItem.objects.create(workspace=alpha.workspace, position=99, artifact=artifact, published_at=timezone.now())
        with pytest.raises(IntegrityError, match="not published"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO publishing_publisheditem (workspace_id, position, artifact_id, published_at) "
                           "VALUES (%s, 99, %s, now())", [alpha.workspace.pk, artifact.pk])
    # nor a published artifact of another workspace in this workspace's feed
    with pytest.raises(IntegrityError, match="not published"), transaction.atomic():
        PublishedItem.objects.create(workspace=alpha.workspace, position=99, artifact=bravo.image, published_at=timezone.now())
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        PublishedItem.objects.filter(artifact=alpha.published).delete()
    assert list(PublishedItem.objects.filter(workspace=alpha.workspace).values_list("artifact_id", flat=True)) == [alpha.published.pk]


def test_the_legal_path_still_publishes(tenants):
    from pressroom.jobs.services import artifact_approve, artifact_publish
    from tests.factories import access_of

    alpha, _ = tenants
    reviewer = access_of(alpha.admin, alpha.workspace)
    published = artifact_publish(artifact=artifact_approve(artifact=alpha.flagged, access=reviewer, comment="Fair comparison"),
                                 access=reviewer)
    assert published.status == "published" and published.feed_item.position == 2


def test_automatic_approval_needs_the_workspace_policy(tenants):
    from pressroom.safety.services import safety_policy_update

    alpha, _ = tenants
    safety_policy_update(access=Access.system(alpha.workspace), auto_approve=True)
    Artifact.objects.filter(pk=alpha.passed.pk).update(status="approved", reviewed_at=timezone.now())
    assert Artifact.objects.get(pk=alpha.passed.pk).status == "approved"


def _unscreened(tenant) -> Artifact:
    from pressroom.plugins import ArtifactDraft
    from tests.security.conftest import PROVENANCE, finished_job

    job = finished_job(tenant.workspace, [ArtifactDraft(kind="text", variant_index=0, text="A guaranteed cure for all.",
                                                        params={}, provenance=PROVENANCE)])
    return job.artifacts.get()


@pytest.mark.parametrize("writer", ["raw SQL", "update()"])
def test_screening_cannot_be_skipped_or_its_decision_forged(tenants, writer):
    alpha, _ = tenants
    artifact = _unscreened(alpha)
    for changes in ({"status": "passed", "safety_decision": "pass"}, {"safety_decision": "pass"},
                    {"status": "flagged", "safety_decision": "flag"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            WRITERS[writer](artifact, changes)
    assert Artifact.objects.values_list("status", "safety_decision").get(pk=artifact.pk) == ("screening", "")
    from pressroom.jobs.services import artifacts_screen

    artifacts_screen(artifact_ids=[artifact.pk])  # the real screening still decides
    assert Artifact.objects.values_list("status", "safety_decision").get(pk=artifact.pk) == ("blocked", "block")


def test_approval_needs_a_reviewer_who_may_review_in_that_workspace(tenants):
    from pressroom.accounts.models import ApiKey
    from pressroom.accounts.services import api_key_revoke

    alpha, bravo = tenants
    key = ApiKey.objects.get(workspace=alpha.workspace)
    api_key_revoke(key=key, access=Access.system(alpha.workspace))
    strangers = [{"reviewed_by": bravo.admin}, {"reviewed_by": alpha.viewer},
                 {"reviewed_by_api_key": ApiKey.objects.get(workspace=bravo.workspace)}, {"reviewed_by_api_key": key}]
    for reviewer in strangers:
        with pytest.raises(IntegrityError, match="may not review"), transaction.atomic():
            Artifact.objects.filter(pk=alpha.flagged.pk).update(status="approved", reviewed_at=timezone.now(), **reviewer)
    Artifact.objects.filter(pk=alpha.flagged.pk).update(status="approved", reviewed_by=alpha.admin, reviewed_at=timezone.now())


def test_review_and_provenance_are_frozen_without_a_transition(tenants):
    alpha, bravo = tenants
    for changes in ({"reviewed_by": bravo.admin}, {"review_comment": "rewritten"}, {"generation_params": {"x": 1}},
                    {"model_alias": "other"}, {"seed": 7}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Artifact.objects.filter(pk=alpha.published.pk).update(**changes)
