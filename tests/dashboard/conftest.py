import pytest
from pressroom.accounts.models import Role
from pressroom.jobs.services import artifacts_screen

from tests.factories import member
from tests.safety.conftest import editor, reviewer  # noqa: F401 - shared fixtures
from tests.safety.conftest import make_artifacts as make_unscreened_artifacts  # noqa: F401


@pytest.fixture
def make_artifacts(make_unscreened_artifacts):  # noqa: F811
    """Artifacts as a finished job leaves them: generated, then screened."""

    def make(*texts: str, use_case: str = "core.text"):
        artifacts = make_unscreened_artifacts(*texts, use_case=use_case)
        return artifacts_screen(artifact_ids=[a.pk for a in artifacts])

    return make


@pytest.fixture
def admin_member(workspace):
    return member(workspace, Role.ADMIN, "ada")


@pytest.fixture
def viewer(workspace):
    return member(workspace, Role.VIEWER, "vic")
