"""Jobs through a real Celery worker on Redis, with the real runtime and small real models."""
import io
import json

import pytest
from PIL import Image

from pressroom.audit.models import AuditEvent
from pressroom.audit.verification import audit_chain_verify
from pressroom.jobs.models import Artifact, Job, JobStatus
from pressroom.jobs.services import job_cancel, job_create
from pressroom_workers.testing import wait_for
from pressroom.accounts.access import Access
from tests.factories import MembershipFactory, access_of

pytestmark = [pytest.mark.worker, pytest.mark.models]


def finished(*jobs: Job):
    def check():
        statuses = Job.objects.filter(pk__in=[job.pk for job in jobs]).values_list("status", flat=True)
        return all(status in ("succeeded", "failed", "cancelled") for status in statuses)

    return check


def test_text_image_and_embedding_jobs_go_from_queued_to_succeeded(start_worker, workspace, user):
    MembershipFactory(user=user, workspace=workspace, role="editor")
    text = job_create(access=access_of(user, workspace), use_case_key="core.text",
        input={"prompt": "Write a tagline for a bakery.", "max_new_tokens": 12},
    )
    image = job_create(access=Access.system(workspace), use_case_key="core.image",
        input={"prompt": "A lighthouse at dusk", "variants": 2, "width": 64, "height": 64, "steps": 3, "seed": 11},
    )
    rank = job_create(access=Access.system(workspace), use_case_key="core.semantic-rank",
        input={"query": "hot drinks", "candidates": ["espresso and cappuccino", "winter tyres", "green tea"], "top_k": 3},
    )
    never_runs = job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "cancelled before start"})
    job_cancel(job=never_runs, access=Access.system(never_runs.workspace))

    worker = start_worker()
    wait_for(finished(text, image, rank), timeout=240, what="jobs to finish")

    for job in (text, image, rank):
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED, (job.error_message, worker.log())
        assert job.progress == 100 and job.attempts == 1 and job.worker.startswith("worker0@")

    text_artifact = Artifact.objects.get(job=text)
    assert text_artifact.kind == "text" and text_artifact.text.strip()
    assert text_artifact.model_alias == "text-default"
    assert text_artifact.model_source.endswith("smollm2-135m-instruct")
    assert text_artifact.model_revision.startswith("sha256:") and not text_artifact.model_placeholder
    assert text_artifact.generation_params["max_new_tokens"] == 12
    assert text_artifact.seed == text.base_seed

    images = list(Artifact.objects.filter(job=image).order_by("variant_index"))
    assert [a.seed for a in images] == [11, 12]
    for artifact in images:
        assert artifact.model_placeholder is True
        with artifact.file.open("rb") as handle:
            assert Image.open(io.BytesIO(handle.read())).size == (64, 64)

    # Every artifact is screened by the worker, after its job succeeded, and audited.
    wait_for(lambda: not Artifact.objects.filter(status="screening").exists(), timeout=120, what="screening")
    for artifact in [text_artifact, *images]:
        artifact.refresh_from_db()
        assert artifact.status in ("passed", "flagged", "approved"), artifact.status
        checks = set(artifact.verdicts.values_list("check_name", flat=True))
        assert checks >= ({"toxicity", "pii", "brand"} if artifact.kind == "text" else {"nsfw", "toxicity"})
        events = AuditEvent.objects.filter(object_type="artifact", object_id=str(artifact.pk)).values_list("action", flat=True)
        assert list(events)[:2] == ["artifact.created", "artifact.screened"]
    assert audit_chain_verify(workspace_id=workspace.pk).ok

    ranking = Artifact.objects.get(job=rank).text.splitlines()
    assert ranking[0].startswith("1. ") and "winter tyres" in ranking[-1]

    never_runs.refresh_from_db()
    assert never_runs.status == JobStatus.CANCELLED and never_runs.attempts == 0
    assert not Artifact.objects.filter(job=never_runs).exists()


PROMPTS = [
    "Name a fruit.",
    "Write a two-word slogan for shoes.",
    "What colour is the sky?",
    "Say thanks politely.",
    "Suggest a name for a cat.",
    "Give one tip for writing e-mails.",
]


def engine_models(engine: str) -> str:
    return json.dumps({"text-default": {"task": "text-generation", "source": "smollm2-135m-instruct", "engine": engine}})


def _run_prompts(start_worker, workspace, name: str, batch_size: str, engine: str = "transformers") -> list[Artifact]:
    jobs = [
        job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": p, "max_new_tokens": 10})
        for p in PROMPTS
    ]
    # Queued before the worker starts, so they are all waiting for its first batch window.
    worker = start_worker(name, PRESSROOM_BATCH_SIZE=batch_size, PRESSROOM_BATCH_WAIT_SECONDS="1.0",
                          PRESSROOM_MODELS=engine_models(engine))
    wait_for(finished(*jobs), timeout=240, what=f"{name} jobs")
    worker.stop()
    artifacts = [Artifact.objects.get(job=job) for job in jobs]
    assert all(a.job.status == JobStatus.SUCCEEDED for a in artifacts), worker.log()
    return artifacts


def test_jobs_queued_together_share_model_calls_and_match_unbatched_output(start_worker, workspace):
    batched = _run_prompts(start_worker, workspace, "batched", "8")
    unbatched = _run_prompts(start_worker, workspace, "single", "1")

    batched_calls = {a.generation_params["batch_id"] for a in batched}
    assert len(batched_calls) < len(PROMPTS)
    assert max(a.generation_params["batch_size"] for a in batched) > 1
    assert len({a.generation_params["batch_id"] for a in unbatched}) == len(PROMPTS)
    assert {a.generation_params["batch_size"] for a in unbatched} == {1}
    # Greedy decoding: the batched result equals the unbatched one, prompt for prompt.
    assert [a.text for a in batched] == [a.text for a in unbatched]


def test_with_llamacpp_jobs_queued_together_decode_together_and_match_unbatched_output(start_worker, workspace):
    """llama.cpp takes each job's request on its own and decodes them in shared steps: one
    call per job, each decoded beside the others, with the text it has alone."""
    batched = _run_prompts(start_worker, workspace, "batched", "8", engine="llama.cpp")
    unbatched = _run_prompts(start_worker, workspace, "single", "1", engine="llama.cpp")
    assert {a.generation_params["engine"] for a in batched + unbatched} == {"llama.cpp"}
    assert max(a.generation_params["batch_size"] for a in batched) > 1
    assert {a.generation_params["batch_size"] for a in unbatched} == {1}
    assert [a.text for a in batched] == [a.text for a in unbatched]


def test_a_missing_model_fails_the_job_with_a_clear_message(start_worker, workspace):
    broken = {"text-default": {"task": "text-generation", "source": "no-such-model-folder"}}
    job = job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "x", "max_new_tokens": 2})
    worker = start_worker("broken", PRESSROOM_MODELS=json.dumps(broken))
    wait_for(finished(job), timeout=120, what="job to fail")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED, worker.log()
    assert "no-such-model-folder" in job.error_message and "prepare_models" in job.error_message
    assert not Artifact.objects.filter(job=job).exists()


def test_running_job_cancelled_stops_at_its_step_boundary(start_worker, workspace):
    job = job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "Tell a story.", "max_new_tokens": 40})
    start_worker()
    wait_for(lambda: Job.objects.get(pk=job.pk).status == JobStatus.RUNNING, timeout=120, what="job to run")
    job_cancel(job=job, access=Access.system(job.workspace))
    wait_for(finished(job), timeout=120, what="job to stop")
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert not Artifact.objects.filter(job=job).exists()


def test_worker_screens_the_input_again_before_generating(start_worker, workspace):
    from pressroom.audit.services import SYSTEM
    from pressroom.safety.services import safety_policy_update

    job = job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "Praise our tea", "max_new_tokens": 4})
    safety_policy_update(access=Access.system(workspace), banned_terms=["tea"])
    worker = start_worker()
    wait_for(finished(job), timeout=120, what="job to be refused")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED, worker.log()
    assert "Input blocked (prompt)" in job.error_message and "banned term 'tea'" in job.error_message
    assert not Artifact.objects.filter(job=job).exists()
    assert "Loaded model text-default" not in worker.log()  # no generation time spent
