import pytest
import redis
from django.conf import settings

from pressroom_workers.testing import WorkerProcess

pytestmark = pytest.mark.worker


@pytest.fixture
def broker():
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("worker tests need CELERY_BROKER_URL to point at Redis")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    return client


@pytest.fixture
def start_worker(transactional_db, broker, tmp_path, settings):
    """Start real workers on the test database; all are stopped before the database is flushed."""
    workers: list[WorkerProcess] = []

    def start(name: str = "worker", **env: str) -> WorkerProcess:
        worker = WorkerProcess(f"{name}{len(workers)}", tmp_path, **env)
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()
