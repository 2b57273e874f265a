"""Routing and delivery settings of the Celery app."""
from pressroom.celery import RUN_JOBS_TASK, app, route_by_modality


def test_jobs_route_to_the_queue_of_their_modality():
    assert route_by_modality(RUN_JOBS_TASK, (), {"modality": "text"}, {}) == {"queue": "gpu.text"}
    assert route_by_modality(RUN_JOBS_TASK, (), {"modality": "image"}, {}) == {"queue": "gpu.image"}
    assert route_by_modality(RUN_JOBS_TASK, (), {"modality": "embedding"}, {}) == {"queue": "cpu"}
    assert route_by_modality("other.task", (), {}, {}) is None


def test_queues_follow_settings(settings):
    settings.PRESSROOM = {"QUEUES": {"text": "gpu.a100.text"}}
    assert route_by_modality(RUN_JOBS_TASK, (), {"modality": "text"}, {}) == {"queue": "gpu.a100.text"}
    assert route_by_modality(RUN_JOBS_TASK, (), {"modality": "image"}, {}) == {"queue": "gpu.image"}


def test_delivery_is_at_least_once():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
