"""The Celery app object, configured from Django settings (CELERY_* names).

The platform enqueues work by task name only; task code lives in workers/ and is
imported by the worker process (`celery -A pressroom_workers worker`), never here.
"""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pressroom.settings")

app = Celery("pressroom")
app.config_from_object("django.conf:settings", namespace="CELERY")

RUN_JOBS_TASK = "pressroom.jobs.run"


def route_by_modality(name, args, kwargs, options, task=None, **kw):
    """Send a job to the queue of its modality (gpu.text, gpu.image, cpu)."""
    if name != RUN_JOBS_TASK:
        return None
    from pressroom.conf import pressroom_settings

    modality = (kwargs or {}).get("modality", "text")
    return {"queue": pressroom_settings.QUEUES.get(modality, "cpu")}


app.conf.update(
    task_routes=(route_by_modality,),
    task_default_queue="cpu",
    # Late acknowledgement: a message is acknowledged only after its job's results are
    # committed, and a worker child lost mid-task puts its message back on the queue.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_acks_on_failure_or_timeout=True,
    # One message at a time for ordinary tasks; GPU workers raise this to the batch
    # size (see pressroom_workers.app) so they hold at most one batch window.
    worker_prefetch_multiplier=1,
    task_queue_max_priority=10,
    task_default_priority=5,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)
