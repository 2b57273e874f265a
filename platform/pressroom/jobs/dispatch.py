"""Hand jobs to Celery by task name; the platform never imports worker code."""
from __future__ import annotations

import logging

from kombu.exceptions import OperationalError

from pressroom.celery import RUN_JOBS_TASK, app

logger = logging.getLogger(__name__)


def celery_priority(job_priority: int) -> int:
    """Job priority 9 is most urgent; Celery's Redis emulation serves 0 first."""
    return 9 - job_priority


def job_enqueue(*, job_id: str, modality: str, priority: int, countdown: float | None = None) -> bool:
    """Publish the job's message. A broker outage leaves the job queued in the database
    (`requeue_stale_jobs` sends it again) instead of failing the caller's request."""
    try:
        app.send_task(
            RUN_JOBS_TASK,
            kwargs={"job_id": job_id, "modality": modality},
            priority=celery_priority(priority),
            countdown=countdown,
        )
    except OperationalError:
        logger.exception("Broker unavailable: job %s stays queued until it is requeued", job_id)
        return False
    return True
