"""The quality stage on the real screening path: worker screening, reviewer edits, input screening."""
import pytest

from pressroom.accounts.access import Access
from pressroom.jobs.models import Artifact
from pressroom.jobs.services import artifact_edit, artifacts_screen
from pressroom.safety.models import SafetyVerdict
from pressroom.safety.services import safety_policy_update
from tests.factories import access_of

pytestmark = pytest.mark.django_db(transaction=True)

CLEAN = "Fresh bread every morning at our bakery."
RESIDUE = "Dear [User Name], fresh bread every morning at our bakery."


def screened(*artifacts):
    artifacts_screen(artifact_ids=[a.pk for a in artifacts])
    return [Artifact.objects.get(pk=a.pk) for a in artifacts]


def test_an_artifact_with_residue_is_flagged_with_the_quality_reason(make_artifacts):
    clean, residue = screened(*make_artifacts(CLEAN, RESIDUE))
    assert clean.status == "passed"
    assert residue.status == "flagged" and residue.safety_decision == "flag"
    verdict = SafetyVerdict.objects.get(artifact=residue, check_name="quality_placeholder")
    assert verdict.decision == "flag" and verdict.evidence[0]["text"] == "[User Name]"
    assert verdict.evidence[0]["reason"] == "placeholder in square brackets"
    assert SafetyVerdict.objects.get(artifact=clean, check_name="quality_placeholder").decision == "pass"


def test_the_job_input_is_the_brief_for_made_up_facts(make_artifacts):
    grounded, invented = screened(*make_artifacts("Loaves from £3, fresh daily.", "Loaves from £9, fresh daily.",
                                                  prompt="Bakery ad: loaves from £3"))
    assert grounded.status == "passed"
    assert invented.status == "flagged"
    assert SafetyVerdict.objects.get(artifact=invented, check_name="quality_unsupported_fact").evidence[0]["text"] == "£9"


def test_a_workspace_without_quality_lets_residue_pass(workspace, make_artifacts):
    safety_policy_update(access=Access.system(workspace), quality_enabled=False)
    (residue,) = screened(*make_artifacts(RESIDUE))
    assert residue.status == "passed"


def test_a_reviewer_edit_is_screened_for_quality_too(make_artifacts, reviewer, workspace):
    (artifact,) = screened(*make_artifacts(CLEAN))
    revision = artifact_edit(artifact=artifact, access=access_of(reviewer, workspace), text="Hi {name}, fresh bread daily.")
    (revision,) = screened(revision)
    assert revision.status == "flagged"
    assert SafetyVerdict.objects.filter(artifact=revision, check_name="quality_placeholder", decision="flag").exists()


def test_job_input_is_not_judged_as_copy(make_artifacts):
    (artifact,) = make_artifacts(CLEAN, prompt="Write copy for [Brand Name], TBD")
    assert not SafetyVerdict.objects.filter(job=artifact.job, check_name__startswith="quality_").exists()
