"""Job input messages in plain words: no pydantic prefixes, one message per field, limits
that name the field's own limit, and every string stored with \\n line endings."""
import pytest

from pressroom.accounts.access import Access
from pressroom.core.errors import InputInvalid
from pressroom.jobs.models import Artifact
from pressroom.jobs.services import artifact_edit, artifacts_screen, job_create
from pressroom.jobs.validation import job_input_validate, use_case_get

from tests.factories import access_of
from tests.safety.conftest import make_artifacts, reviewer  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.django_db
AD = {"product": "Trail shoes", "channels": ["search"]}


def _errors(use_case_key, raw_input):
    with pytest.raises(InputInvalid) as error:
        job_input_validate(use_case=use_case_get(use_case_key), raw_input=raw_input)
    return error.value.field_errors


@pytest.mark.parametrize("length", [3_000, 10_000])
def test_a_too_long_field_names_its_own_limit_whatever_the_length(length):
    errors = _errors("marketing.ad_copy", {**AD, "description": "x" * length})
    assert errors == {"description": [f"{length} characters is over this field's limit of 1000."]}


def test_a_field_without_its_own_limit_keeps_the_platform_limit():
    assert _errors("core.text", {"prompt": "a" * 4001}) == {"prompt": ["4001 characters is over the limit of 4000."]}


def test_a_too_long_item_of_a_list_names_the_items_limit():
    errors = _errors("marketing.ad_copy", {**AD, "product": "Shoes", "offer": "o" * 300})
    assert errors == {"offer": ["300 characters is over this field's limit of 200."]}


def test_validator_messages_come_without_pydantic_prefixes():
    errors = _errors("core.text", {"prompt": "x", "variants": 3})
    message = errors["input"][0]
    assert not message.startswith(("Value error", "Assertion failed")) and message.startswith("Several variants")
    attribute_errors = _errors("marketing.product_description", {"name": "Jumper", "attributes": {"material": " "}})
    assert attribute_errors["attributes"] == ["Blank attribute(s): 'material'"]


def test_each_field_gets_one_message():
    errors = _errors("marketing.ad_copy", {"product": "", "channels": ["billboards", "radio"], "variants": "many"})
    assert all(len(messages) == 1 for messages in errors.values()), errors


def test_job_input_strings_are_normalised_to_lf(workspace):
    job = job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "one\r\ntwo\rthree"})
    assert job.input["prompt"] == "one\ntwo\nthree"


def test_an_edit_through_the_service_is_stored_with_lf(workspace, make_artifacts, reviewer):
    artifact = artifacts_screen(artifact_ids=[a.pk for a in make_artifacts("Fresh coffee.")])[0]
    revision = artifact_edit(artifact=artifact, access=access_of(reviewer, workspace), text="Fresh.\r\nRoasted daily.\r")
    assert Artifact.objects.get(pk=revision.pk).text == "Fresh.\nRoasted daily.\n"
