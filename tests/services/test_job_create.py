"""job_create: validation, limits, idempotency, and enqueueing on commit."""
import json

import pytest
import redis
from django.conf import settings

from pressroom.core.errors import IdempotencyConflict, InputInvalid, UnknownUseCase
from pressroom.jobs.models import Job, JobStatus
from pressroom.jobs.services import job_create
from pressroom.accounts.access import Access
from tests.factories import MembershipFactory, access_of

pytestmark = pytest.mark.django_db(transaction=True)


def broker_queue_length(queue: str) -> int:
    """Messages waiting in a Redis queue, over all of Celery's priority sub-queues."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return sum(client.llen(key) for key in client.keys(f"{queue}*") if client.type(key) == b"list")


@pytest.fixture(autouse=True)
def empty_broker():
    if settings.CELERY_BROKER_URL.startswith("redis"):
        redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


def test_valid_job_is_stored_with_normalised_input_and_enqueued(workspace, user):
    MembershipFactory(user=user, workspace=workspace, role="editor")
    job = job_create(access=access_of(user, workspace), use_case_key="core.text", input={"prompt": "Hello"})

    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert job.modality == "text"
    assert job.input["prompt"] == "Hello"
    assert job.input["max_new_tokens"] == 128  # defaults filled in
    assert job.attempts == 0 and job.progress == 0
    assert broker_queue_length("gpu.text") == 1
    assert broker_queue_length("gpu.image") == 0


def test_image_jobs_route_to_the_image_queue(workspace):
    job_create(access=Access.system(workspace), use_case_key="core.image", input={"prompt": "A lighthouse"})
    assert broker_queue_length("gpu.image") == 1
    assert broker_queue_length("gpu.text") == 0


def test_unknown_use_case_is_refused_and_nothing_written(workspace):
    with pytest.raises(UnknownUseCase) as error:
        job_create(access=Access.system(workspace), use_case_key="nope.missing", input={"prompt": "x"})
    assert "nope.missing" in str(error.value)
    assert "core.text" in error.value.field_errors["use_case"][0]
    assert Job.objects.count() == 0
    assert broker_queue_length("gpu.text") == 0


@pytest.mark.parametrize(
    ("raw_input", "field", "fragment"),
    [
        ({"prompt": 42}, "prompt", "valid string"),
        ({"prompt": "x", "variants": "many"}, "variants", "valid integer"),
        ({"prompt": "x", "temperature": 9}, "temperature", "less than or equal to 2"),
        ({"prompt": "x", "surprise": True}, "surprise", "Extra inputs"),
        ({}, "prompt", "Field required"),
        ({"prompt": "x", "variants": 3}, "input", "temperature above 0"),
        ({"prompt": "x", "variants": 99, "temperature": 0.7}, "variants", "at most 8"),
    ],
)
def test_wrong_types_are_refused_with_field_messages(workspace, raw_input, field, fragment):
    with pytest.raises(InputInvalid) as error:
        job_create(access=Access.system(workspace), use_case_key="core.text", input=raw_input)
    messages = error.value.field_errors
    assert field in messages or (field == "input" and messages), messages
    assert fragment in " ".join(sum(messages.values(), []))
    assert Job.objects.count() == 0


def test_oversized_prompt_is_refused(workspace, settings):
    limit = 4000
    with pytest.raises(InputInvalid) as error:
        job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "a" * (limit + 1)})
    assert error.value.field_errors == {"prompt": [f"{limit + 1} characters is over the limit of {limit}."]}
    assert Job.objects.count() == 0


def test_oversized_input_body_is_refused(workspace):
    candidates = ["word " * 700] * 30  # each string under the prompt limit, the whole over 64 KiB
    with pytest.raises(InputInvalid, match="Input too large"):
        job_create(access=Access.system(workspace), use_case_key="core.semantic-rank", input={"query": "q", "candidates": candidates}
        )
    assert Job.objects.count() == 0


@pytest.mark.parametrize("raw_input", [["prompt"], "prompt", None, 3])
def test_input_must_be_an_object(workspace, raw_input):
    with pytest.raises(InputInvalid, match="JSON object"):
        job_create(access=Access.system(workspace), use_case_key="core.text", input=raw_input)
    assert Job.objects.count() == 0


@pytest.mark.parametrize("priority", [-1, 10, "high", True, 2.5])
def test_priority_must_be_0_to_9(workspace, priority):
    with pytest.raises(InputInvalid) as error:
        job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "x"}, priority=priority)
    assert "priority" in error.value.field_errors
    assert Job.objects.count() == 0


def test_same_idempotency_key_and_request_returns_the_same_job(workspace):
    first = job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "x"}, idempotency_key="k1")
    again = job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "x"}, idempotency_key="k1")
    assert again.pk == first.pk
    assert Job.objects.count() == 1
    assert broker_queue_length("gpu.text") == 1


def test_same_idempotency_key_with_another_request_conflicts(workspace):
    job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "x"}, idempotency_key="k1")
    with pytest.raises(IdempotencyConflict):
        job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "y"}, idempotency_key="k1")
    assert Job.objects.count() == 1


def test_idempotency_keys_are_per_workspace(workspace):
    from tests.factories import WorkspaceFactory

    other = WorkspaceFactory()
    a = job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "x"}, idempotency_key="k")
    b = job_create(access=Access.system(other), use_case_key="core.text", input={"prompt": "x"}, idempotency_key="k")
    assert a.pk != b.pk


def test_priority_reaches_the_broker_message(workspace):
    job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "x"}, priority=9)
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    keys = [key for key in client.keys("gpu.text*") if client.llen(key)]
    message = json.loads(client.lindex(keys[0], 0))
    assert message["properties"]["priority"] == 0  # most urgent in Celery's Redis emulation
