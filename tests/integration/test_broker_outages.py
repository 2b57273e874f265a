"""Job creation answers within 2 s whatever the broker does, with the job's id, and the
job runs once the broker is back: the outbox row waits for the sweeper."""
import socket
import threading
import time

import pytest
from rest_framework.test import APIClient

from pressroom.accounts.access import Access
from pressroom.accounts.models import Scope
from pressroom.accounts.services import api_key_create
from pressroom.celery import app
from pressroom.jobs.models import Job, JobDispatch
from pressroom.jobs.services import jobs_sweep
from pressroom_workers.testing import wait_for

pytestmark = pytest.mark.worker

JOB = {"use_case": "core.text", "input": {"prompt": "Say hello.", "max_new_tokens": 4}}


class SilentBroker:
    """A socket that accepts connections and never says a word."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self) -> None:
        for connection in self.held:
            connection.close()
        self.sock.close()


def _refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again: connections are refused


@pytest.fixture
def client(transactional_db, workspace):
    _, token = api_key_create(access=Access.system(workspace), name="cms", scopes=[Scope.JOBS_WRITE, Scope.CONTENT_READ])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


@pytest.fixture
def broker_at(monkeypatch):
    """Point the platform's publisher at another broker (Celery reads the environment first)."""
    real = app.conf.broker_url

    def point(url: str) -> None:
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        app.conf.broker_url = url

    yield point
    app.conf.broker_url = real


def _create_within_two_seconds(client) -> tuple[dict, float]:
    started = time.monotonic()
    response = client.post("/api/v1/jobs/", JOB, format="json")
    seconds = time.monotonic() - started
    assert response.status_code == 201, response.content
    return response.json(), seconds


@pytest.mark.parametrize("outage", ["refused", "silent"])
def test_job_creation_answers_in_time_and_the_job_runs_when_the_broker_is_back(client, broker_at, start_worker, settings, outage):
    silent = SilentBroker() if outage == "silent" else None
    port = silent.port if silent else _refused_port()
    broker_at(f"redis://127.0.0.1:{port}/0")
    try:
        job, seconds = _create_within_two_seconds(client)
    finally:
        broker_at(settings.CELERY_BROKER_URL)  # the broker is back
        if silent:
            silent.close()
    assert seconds <= 2.0, seconds
    assert job["status"] == "queued" and JobDispatch.objects.filter(job_id=job["id"]).count() == 1
    print(f"\n{outage} broker: answered in {seconds:.2f}s")

    settings.PRESSROOM = {**settings.PRESSROOM, "DISPATCH_GRACE_SECONDS": 0}
    assert jobs_sweep()["sent"] == 1  # the broker is back: the sweeper sends what waited
    assert not JobDispatch.objects.filter(job_id=job["id"]).exists()
    start_worker()
    wait_for(lambda: Job.objects.get(pk=job["id"]).status == "succeeded", timeout=120, what="the job to run")
    assert Job.objects.get(pk=job["id"]).attempts == 1
