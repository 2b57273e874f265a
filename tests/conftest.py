import os

import pytest

from tests.factories import UserFactory, WorkspaceFactory

# Model weights never come from the network in tests.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def workspace(db):
    return WorkspaceFactory()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture(autouse=True)
def _audit_keys_in_tmp(settings, tmp_path):
    """Each test signs audit checkpoints with its own key, written under its tmp folder."""
    settings.PRESSROOM = {**settings.PRESSROOM, "AUDIT_SIGNING_KEY_FILE": str(tmp_path / "audit-signing.key"),
                          "AUDIT_CHECKPOINT_PATH": str(tmp_path / "audit-checkpoints.jsonl")}
