"""Signed checkpoints of each workspace's chain head (RFC 6962's signed tree heads, a
ledger database's exported digests).

A checkpoint says "workspace W's chain had N events ending in hash H at time T", signed
with an Ed25519 key that is never stored in the database. It is kept in the database and
appended, one JSON line each, to a file outside it (`AUDIT_CHECKPOINT_PATH`; ship that
file to write-once storage). Given checkpoints, `audit verify` detects what the chain
alone cannot: truncation with the head rolled back, a whole chain deleted, and a rewrite
with every later hash recomputed.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.utils import timezone

from pressroom.audit.chain import canonical_json
from pressroom.audit.models import AuditChainHead, AuditCheckpoint
from pressroom.conf import pressroom_settings


@dataclass(frozen=True)
class SignedCheckpoint:
    workspace_id: int
    sequence: int
    hash: str
    signed_at: str
    key_id: str
    signature: str = ""

    def statement(self) -> bytes:
        body = {"workspace_id": self.workspace_id, "sequence": self.sequence, "hash": self.hash,
                "signed_at": self.signed_at, "key_id": self.key_id}
        return canonical_json(body).encode()

    def signature_valid(self, public_key: Ed25519PublicKey) -> bool:
        try:
            public_key.verify(base64.b64decode(self.signature), self.statement())
            return True
        except (InvalidSignature, ValueError):
            return False


# -- the key ---------------------------------------------------------------------------
def _key_from_text(text: str) -> Ed25519PrivateKey:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("The audit signing key must be an Ed25519 key.")
        return key
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text))


def _key_file_create(path: Path) -> None:
    """The embedded default: a key file beside the SQLite file, readable by its owner only.
    Production passes the key in PRESSROOM_AUDIT_SIGNING_KEY from a secret store."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                                      serialization.NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(base64.b64encode(raw).decode() + "\n")


def signing_key() -> Ed25519PrivateKey:
    configured = pressroom_settings.AUDIT_SIGNING_KEY
    if configured:
        return _key_from_text(configured)
    path = Path(pressroom_settings.AUDIT_SIGNING_KEY_FILE)
    if not path.exists():
        try:
            _key_file_create(path)
        except FileExistsError:
            pass  # another process made it first
    return _key_from_text(path.read_text())


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem() -> str:
    """For auditors: verify checkpoints without the private key."""
    return signing_key().public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_key(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("Not an Ed25519 public key.")
    return key


# -- writing -----------------------------------------------------------------------------
def _sign(head: AuditChainHead, key: Ed25519PrivateKey) -> SignedCheckpoint:
    unsigned = SignedCheckpoint(workspace_id=head.workspace_id, sequence=head.last_sequence, hash=head.last_hash,
                                signed_at=timezone.now().isoformat(), key_id=key_id(key.public_key()))
    signature = base64.b64encode(key.sign(unsigned.statement())).decode()
    return SignedCheckpoint(**{**asdict(unsigned), "signature": signature})


def _append_outside_database(checkpoints: list[SignedCheckpoint]) -> None:
    path = Path(pressroom_settings.AUDIT_CHECKPOINT_PATH)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        for checkpoint in checkpoints:
            handle.write(json.dumps(asdict(checkpoint), sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def audit_checkpoints_write(*, workspace_id: int | None = None) -> list[SignedCheckpoint]:
    """Sign the current chain head of one workspace (or of all), store the checkpoints and
    append them to the file outside the database. Runs on a schedule and on every export."""
    key = signing_key()
    heads = AuditChainHead.objects.all() if workspace_id is None else AuditChainHead.objects.filter(workspace_id=workspace_id)
    checkpoints = [_sign(head, key) for head in heads if head.last_sequence > 0]
    AuditCheckpoint.objects.bulk_create(AuditCheckpoint(
        workspace_id=c.workspace_id, sequence=c.sequence, hash=c.hash, signed_at=c.signed_at, key_id=c.key_id,
        signature=c.signature) for c in checkpoints)
    if checkpoints:
        _append_outside_database(checkpoints)
    return checkpoints


def checkpoints_read(path: str | Path) -> list[SignedCheckpoint]:
    """Checkpoints from an exported file (JSON Lines); a malformed line is an error."""
    checkpoints = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            checkpoints.append(SignedCheckpoint(**json.loads(line)))
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}:{number}: not a checkpoint ({error})") from None
    return checkpoints
