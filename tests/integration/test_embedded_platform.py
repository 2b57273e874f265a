"""The embedded default as a user runs it (`manage.py runplatform`: SQLite, the filesystem
broker, supervised processes): a worker SIGKILLed mid-job loses nothing and duplicates
nothing, the web keeps serving, and SIGTERM stops everything within seconds."""
import os
import signal
import time

import pytest

from pressroom_workers.testing import EmbeddedPlatform, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.models]

LEASE, SWEEP = 6, 1
LONG_JOB = {"use_case": "core.text", "input": {"prompt": "Write a long story about a baker.", "max_new_tokens": 160}}


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    embedded = EmbeddedPlatform(tmp_path_factory.mktemp("embedded"), PRESSROOM_LEASE_SECONDS=str(LEASE),
                                PRESSROOM_SWEEP_SECONDS=str(SWEEP))
    embedded.start()
    yield embedded
    if embedded.process.poll() is None:
        try:
            embedded.stop()
        finally:
            for pid in embedded.all_pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def _job(platform, job_id):
    return platform.api("GET", f"jobs/{job_id}/")


def _events(platform, job_id) -> list[str]:
    events = platform.api("GET", "audit-events/", params={"object_type": "job", "object_id": job_id, "page_size": 200})
    return [event["action"] for event in events["results"]]


def test_a_worker_killed_mid_job_is_restarted_and_the_job_completes_exactly_once(platform):
    job = platform.api("POST", "jobs/", json=LONG_JOB)
    wait_for(lambda: _job(platform, job["id"])["status"] == "running", timeout=60, what="the job to start")
    time.sleep(1)  # mid-generation
    killed = platform.kill_program("worker-text")
    killed_at = time.monotonic()
    assert platform.healthy()  # the web process kept serving
    wait_for(lambda: platform.program_pid("worker-text") not in (0, killed), timeout=30, what="the worker to be restarted")
    finished = wait_for(lambda: (j := _job(platform, job["id"]))["status"] in ("succeeded", "failed") and j, timeout=180,
                        what="the job to finish after the kill")
    assert finished["status"] == "succeeded" and finished["attempts"] == 2
    assert len(finished["artifacts"]) == 1
    events = _events(platform, job["id"])
    assert events.count("job.succeeded") == 1 and events.count("job.requeued") == 1 and events.count("job.started") == 2
    print(f"\nrecovered {time.monotonic() - killed_at:.1f}s after the kill (lease {LEASE}s, sweep {SWEEP}s)")


def test_cancelling_a_job_on_a_dead_worker_takes_effect_at_once(platform):
    platform.kill_program("worker-text")  # nobody runs text for a moment...
    job = platform.api("POST", "jobs/", json=LONG_JOB)
    wait_for(lambda: platform.program_pid("worker-text") > 0, timeout=30, what="the worker to be restarted")
    wait_for(lambda: _job(platform, job["id"])["status"] == "running", timeout=60, what="the job to start")
    platform.kill_program("worker-text")
    time.sleep(LEASE + 0.5)  # its lease lapses
    cancelled = platform.api("POST", f"jobs/{job['id']}/cancel/")
    assert cancelled["status"] == "cancelled"
    time.sleep(SWEEP * 3)
    assert _job(platform, job["id"])["status"] == "cancelled"


LONG_IMAGE = {"use_case": "core.image", "input": {"prompt": "A lighthouse at dusk", "width": 256, "height": 256, "steps": 40}}


def test_a_text_job_never_waits_behind_a_long_image_and_the_image_cancels_within_a_step(platform):
    image = platform.api("POST", "jobs/", json=LONG_IMAGE)
    wait_for(lambda: _job(platform, image["id"])["status"] == "running", timeout=60, what="the image job to start")
    text = platform.api("POST", "jobs/", json={"use_case": "core.text", "input": {"prompt": "Say hi.", "max_new_tokens": 8}})
    wait_for(lambda: _job(platform, text["id"])["status"] == "succeeded", timeout=90, what="the text job to finish")
    assert _job(platform, image["id"])["status"] == "running"  # the text job overtook it
    time.sleep(2)
    asked = time.monotonic()
    assert platform.api("POST", f"jobs/{image['id']}/cancel/")["status"] == "running"  # asked to stop
    wait_for(lambda: _job(platform, image["id"])["status"] == "cancelled", timeout=60, what="the image job to stop")
    seconds = time.monotonic() - asked
    print(f"\nimage job stopped {seconds:.1f}s after the cancel (40 steps at 256 px)")
    assert seconds < 20  # within about one denoising step (+ the decode), not the 40-step run
    assert _job(platform, image["id"])["artifacts"] == []


def test_a_dead_web_process_is_restarted(platform):
    platform.kill_program("web")
    wait_for(platform.healthy, timeout=30, what="the web process to be back")


def test_sigterm_stops_every_process_within_seconds(platform):
    pids = platform.all_pids()
    assert len(pids) >= 7  # supervisord, web (master + worker), three workers with their pools, beat
    seconds = platform.stop()
    assert seconds < 10
