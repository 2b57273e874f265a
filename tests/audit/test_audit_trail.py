"""The audit trail: one event per change, append-only in the model and in PostgreSQL,
a hash chain that names the first tampered event, correct under concurrent writers."""
import csv
import io
import json
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from pressroom.audit.models import AppendOnlyError, AuditEvent
from pressroom.audit.services import SYSTEM, Actor, audit_record
from pressroom.audit.verification import audit_chain_verify
from pressroom.jobs import services as job_services
from pressroom.plugins import ArtifactDraft, ModelProvenance
from pressroom.accounts.access import Access
from tests.audit.chain_helpers import record, tamper
from tests.factories import MembershipFactory, access_of

pytestmark = pytest.mark.django_db(transaction=True)

PROVENANCE = ModelProvenance(alias="text-default", source="/m", revision="sha256:abc")


def actions(workspace) -> list[str]:
    return list(AuditEvent.objects.filter(workspace=workspace).order_by("sequence").values_list("action", flat=True))


def test_every_job_transition_writes_exactly_one_event(workspace, user):
    MembershipFactory(user=user, workspace=workspace, role="editor")
    job = job_services.job_create(access=access_of(user, workspace), use_case_key="core.text", input={"prompt": "Hi"})
    job_services.job_start(job=job, worker="w1")
    job_services.job_succeed(job=job, drafts=[ArtifactDraft(kind="text", variant_index=0, text="Hello", params={}, provenance=PROVENANCE)])
    other = job_services.job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "Bye"})
    job_services.job_cancel(job=other, access=Access.system(other.workspace))
    assert actions(workspace) == ["job.created", "job.started", "job.succeeded", "artifact.created", "job.created", "job.cancelled"]
    created = AuditEvent.objects.get(workspace=workspace, sequence=1)
    assert created.actor_type == "user" and created.actor_id == str(user.pk) and created.data["input"]["prompt"] == "Hi"
    started = AuditEvent.objects.get(workspace=workspace, sequence=2)
    assert started.actor_type == "worker" and started.actor_label == "w1"
    artifact_event = AuditEvent.objects.get(workspace=workspace, action="artifact.created")
    assert artifact_event.data["model_revision"] == "sha256:abc"


def test_a_refused_transition_writes_no_event(workspace):
    job = job_services.job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "Hi"})
    before = AuditEvent.objects.count()
    with pytest.raises(Exception):
        job_services.job_succeed(job=job, drafts=[])
    assert AuditEvent.objects.count() == before


def test_events_must_be_written_inside_the_change_transaction(workspace):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(workspace_id=workspace.pk, action="job.created", object_type="job", object_id="x")


def test_unregistered_actions_are_refused(workspace):
    with pytest.raises(KeyError, match="Unregistered"), transaction.atomic():
        audit_record(workspace_id=workspace.pk, action="job.teleported", object_type="job", object_id="x")


def test_model_guard_refuses_update_and_delete(workspace):
    record(workspace, 1)
    event = AuditEvent.objects.get(workspace=workspace)
    event.action = "job.failed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="job.failed")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.parametrize("sql", [
    "UPDATE audit_auditevent SET action = 'job.failed' WHERE workspace_id = %s",
    "DELETE FROM audit_auditevent WHERE workspace_id = %s",
])
def test_postgresql_trigger_refuses_update_and_delete(workspace, sql):
    record(workspace, 2)
    with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
        cursor.execute(sql, [workspace.pk])
    assert actions(workspace) == ["job.created", "job.created"]


def test_verify_names_the_first_edited_event(workspace):
    record(workspace, 5)
    assert audit_chain_verify(workspace_id=workspace.pk).ok
    tamper("UPDATE audit_auditevent SET data = '{\"i\": 99}' WHERE workspace_id = %s AND sequence = 3", [workspace.pk])
    report = audit_chain_verify(workspace_id=workspace.pk)
    assert (report.problem.sequence, report.problem.kind) == (3, "edited")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--workspace", workspace.slug, stdout=out)
    assert "TAMPERED at event #3" in out.getvalue() and "edited" in out.getvalue()


def test_verify_finds_deleted_and_reordered_events(workspace):
    record(workspace, 5)
    tamper("DELETE FROM audit_auditevent WHERE workspace_id = %s AND sequence = 2", [workspace.pk])
    report = audit_chain_verify(workspace_id=workspace.pk)
    assert (report.problem.sequence, report.problem.kind) == (2, "deleted")


def test_verify_finds_swapped_events(workspace):
    record(workspace, 4)
    # Two statements, two calls: with server-side binding a parameterised execute is one statement.
    tamper("UPDATE audit_auditevent SET sequence = -sequence WHERE workspace_id = %s AND sequence IN (2, 3)",
           [workspace.pk])
    tamper("UPDATE audit_auditevent SET sequence = CASE sequence WHEN -2 THEN 3 ELSE 2 END "
           "WHERE workspace_id = %s AND sequence IN (-2, -3)", [workspace.pk])
    report = audit_chain_verify(workspace_id=workspace.pk)
    assert (report.problem.sequence, report.problem.kind) == (2, "reordered")


def test_verify_finds_a_deleted_last_event(workspace):
    record(workspace, 3)
    tamper("DELETE FROM audit_auditevent WHERE workspace_id = %s AND sequence = 3", [workspace.pk])
    report = audit_chain_verify(workspace_id=workspace.pk)
    assert (report.problem.sequence, report.problem.kind) == (3, "deleted")


def test_eight_concurrent_writers_leave_a_chain_that_verifies(workspace):
    errors = []

    def writer(index: int) -> None:
        try:
            record(workspace, 10, actor=Actor("worker", f"w{index}", f"w{index}"))
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    sequences = list(AuditEvent.objects.filter(workspace=workspace).order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, 81))
    report = audit_chain_verify(workspace_id=workspace.pk)
    assert report.ok and report.events == 80


def test_chains_are_per_workspace(workspace):
    from tests.factories import WorkspaceFactory

    other = WorkspaceFactory()
    record(workspace, 2)
    record(other, 3)
    assert audit_chain_verify(workspace_id=workspace.pk).events == 2
    assert AuditEvent.objects.get(workspace=other, sequence=1).previous_hash == ""


def test_export_jsonl_and_csv_with_filters(workspace):
    record(workspace, 3, actor=Actor("worker", "w1", "w1"))
    record(workspace, 2, actor=Actor("api_key", "k9", "cms"))
    out = io.StringIO()
    call_command("audit", "export", "--workspace", workspace.slug, "--actor", "api_key:k9", stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["sequence"] for r in rows] == [4, 5]
    assert rows[0]["action_label"] == "Job created" and rows[0]["hash"]
    out = io.StringIO()
    call_command("audit", "export", "--workspace", workspace.slug, "--format", "csv", "--object", "job:j1", stdout=out)
    table = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [row["sequence"] for row in table] == ["2", "5"]  # j1 from both writers
    assert json.loads(table[0]["data"]) == {"i": 1}
    out = io.StringIO()
    call_command("audit", "export", "--workspace", workspace.slug, "--since", "2999-01-01T00:00:00Z", stdout=out)
    assert out.getvalue() == ""


def test_workspace_and_membership_changes_are_audited(user):
    from pressroom.accounts.services import membership_remove, membership_set, workspace_create
    from tests.factories import UserFactory

    workspace = workspace_create(name="Acme Shoes", owner=user)
    colleague = UserFactory(username="colleague")
    membership = membership_set(access=Access.system(workspace, Actor.for_user(user)), user=colleague, role="editor")
    membership_set(access=Access.system(workspace, Actor.for_user(user)), user=colleague, role="reviewer")
    membership_set(access=Access.system(workspace), user=colleague, role="reviewer")  # no change, no event
    membership_remove(membership=membership, access=Access.system(membership.workspace))
    assert actions(workspace) == [
        "workspace.created", "membership.added", "membership.added", "membership.role_changed", "membership.removed",
    ]
    changed = AuditEvent.objects.get(workspace=workspace, action="membership.role_changed")
    assert changed.data == {"user": "colleague", "before": "editor", "after": "reviewer"}
    assert audit_chain_verify(workspace_id=workspace.pk).ok


def test_policy_changes_are_audited_with_before_and_after(workspace):
    from pressroom.safety.services import safety_policy_update

    safety_policy_update(access=Access.system(workspace), auto_approve=True, banned_terms=["cheapest ever"])
    event = AuditEvent.objects.get(workspace=workspace, action="workspace.policy_changed")
    assert event.data == {"version": 2, "before": {"auto_approve": False, "banned_terms": []},
                          "after": {"auto_approve": True, "banned_terms": ["cheapest ever"]}}
