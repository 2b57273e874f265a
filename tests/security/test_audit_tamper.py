"""Tampering with the audit trail, by someone who can bypass the triggers (a database
superuser), is detected given a signed checkpoint kept outside the database."""
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.forms.models import model_to_dict

from pressroom.audit.chain import event_hash
from pressroom.audit.checkpoints import audit_checkpoints_write, checkpoints_read
from pressroom.audit.models import AuditChainHead, AuditEvent
from pressroom.audit.verification import audit_chain_verify
from tests.audit.chain_helpers import record, tamper
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chain(settings):
    """A workspace with 10 events, a checkpoint at 10 written to the file, then 2 more."""
    workspace = WorkspaceFactory()
    record(workspace, 10)
    audit_checkpoints_write(workspace_id=workspace.pk)
    record(workspace, 2)
    return workspace


def checkpoints(settings):
    return checkpoints_read(settings.PRESSROOM["AUDIT_CHECKPOINT_PATH"])


def verify(workspace_id, settings, with_checkpoints=True):
    from pressroom.audit.checkpoints import signing_key

    if not with_checkpoints:
        return audit_chain_verify(workspace_id=workspace_id)
    return audit_chain_verify(workspace_id=workspace_id, checkpoints=checkpoints(settings), public_key=signing_key().public_key())


def rechain_from(workspace, sequence: int) -> None:
    """Recompute every hash from `sequence` on, as a careful forger would, and the head."""
    previous = AuditEvent.objects.get(workspace=workspace, sequence=sequence - 1).hash if sequence > 1 else ""
    for event in AuditEvent.objects.filter(workspace=workspace, sequence__gte=sequence).order_by("sequence"):
        fields = {**model_to_dict(event, exclude=["id", "user", "workspace"]), "workspace_id": workspace.pk, "previous_hash": previous}
        new_hash = event_hash(fields)
        tamper("UPDATE audit_auditevent SET previous_hash = %s, hash = %s WHERE id = %s", [previous, new_hash, event.pk])
        previous = new_hash
    last = AuditEvent.objects.filter(workspace=workspace).order_by("-sequence").first()
    tamper("UPDATE audit_auditchainhead SET last_sequence = %s, last_hash = %s WHERE workspace_id = %s",
                [last.sequence, last.hash, workspace.pk])


def test_an_untouched_chain_verifies_against_its_checkpoints(chain, settings):
    report = verify(chain.pk, settings)
    assert report.ok and report.events == 12 and report.checkpoints == 1


def test_truncation_with_the_head_rolled_back(chain, settings):
    tamper("DELETE FROM audit_auditevent WHERE workspace_id = %s AND sequence > 8", [chain.pk])
    last = AuditEvent.objects.get(workspace=chain, sequence=8)
    tamper("UPDATE audit_auditchainhead SET last_sequence = 8, last_hash = %s WHERE workspace_id = %s", [last.hash, chain.pk])
    assert verify(chain.pk, settings, with_checkpoints=False).ok  # the limit of a chain alone
    report = verify(chain.pk, settings)
    assert report.problem.kind == "truncated" and "saw 10 events" in report.problem.detail


def test_a_whole_chain_deleted(chain, settings):
    tamper("DELETE FROM audit_auditevent WHERE workspace_id = %s", [chain.pk])
    tamper("DELETE FROM audit_auditchainhead WHERE workspace_id = %s", [chain.pk])
    assert verify(chain.pk, settings, with_checkpoints=False).ok
    assert verify(chain.pk, settings).problem.kind == "deleted"
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--checkpoints", settings.PRESSROOM["AUDIT_CHECKPOINT_PATH"])


def test_an_edit_with_every_later_hash_recomputed(chain, settings):
    event = AuditEvent.objects.get(workspace=chain, sequence=4)
    tamper("UPDATE audit_auditevent SET data = %s WHERE id = %s", [json.dumps({"i": 999}), event.pk])
    rechain_from(chain, 4)
    assert verify(chain.pk, settings, with_checkpoints=False).ok
    report = verify(chain.pk, settings)
    assert report.problem.kind == "rewritten" and report.problem.sequence == 10


def test_a_reorder_is_reported_as_a_reorder(chain, settings):
    five, six = (AuditEvent.objects.get(workspace=chain, sequence=n) for n in (5, 6))
    tamper("UPDATE audit_auditevent SET sequence = -1 WHERE id = %s", [five.pk])
    tamper("UPDATE audit_auditevent SET sequence = 5 WHERE id = %s", [six.pk])
    tamper("UPDATE audit_auditevent SET sequence = 6 WHERE id = %s", [five.pk])
    report = verify(chain.pk, settings, with_checkpoints=False)
    assert report.problem.kind == "reordered" and "event #6, moved to #5" in report.problem.detail


def test_a_forged_checkpoint_is_refused(chain, settings):
    path = settings.PRESSROOM["AUDIT_CHECKPOINT_PATH"]
    line = json.loads(open(path).read().splitlines()[0])
    line["sequence"] = 3
    with open(path, "w") as handle:
        handle.write(json.dumps(line) + "\n")
    assert verify(chain.pk, settings).problem.kind == "bad checkpoint"


def test_the_chain_head_is_protected_like_the_events(chain):
    for sql in ("DELETE FROM audit_auditchainhead WHERE workspace_id = %s",
                "UPDATE audit_auditchainhead SET last_sequence = 8 WHERE workspace_id = %s",
                "UPDATE audit_auditchainhead SET last_sequence = last_sequence + 1 WHERE workspace_id = %s"):
        with pytest.raises(DatabaseError, match="chain head"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [chain.pk])
    assert AuditChainHead.objects.get(workspace=chain).last_sequence == 12


def test_exports_write_a_checkpoint(chain, settings, capsys):
    before = len(checkpoints(settings))
    call_command("audit", "export", "--workspace", chain.slug)
    written = checkpoints(settings)
    assert len(written) == before + 1 and written[-1].sequence == 12
    call_command("audit", "verify", "--workspace", chain.slug, "--checkpoints", settings.PRESSROOM["AUDIT_CHECKPOINT_PATH"])
    assert f"{chain.slug}: OK (12 events, 2 checkpoints)" in capsys.readouterr().out


def test_the_key_comes_from_the_environment_or_an_owner_only_file(settings, tmp_path):
    import base64
    import os

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization

    from pressroom.audit.checkpoints import key_id

    workspace = WorkspaceFactory()
    record(workspace, 1)
    audit_checkpoints_write(workspace_id=workspace.pk)
    assert os.stat(settings.PRESSROOM["AUDIT_SIGNING_KEY_FILE"]).st_mode & 0o777 == 0o600
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    settings.PRESSROOM = {**settings.PRESSROOM, "AUDIT_SIGNING_KEY": base64.b64encode(seed).decode(),
                          "AUDIT_SIGNING_KEY_FILE": str(tmp_path / "unused.key")}
    (written,) = audit_checkpoints_write(workspace_id=workspace.pk)
    assert written.key_id == key_id(key.public_key()) and written.signature_valid(key.public_key())
    assert not (tmp_path / "unused.key").exists()
