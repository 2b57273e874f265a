"""Celery tasks. Thin: they hand job ids to the executor and decide acknowledgement."""
from __future__ import annotations

import logging
from typing import Any

from celery_batches import Batches, SimpleRequest
from celery_batches.trace import apply_batches_task
from pressroom.audit.services import Actor
from pressroom.celery import RUN_JOBS_TASK, app
from pressroom.conf import pressroom_settings
from pressroom.publishing.services import DELIVER_TASK, webhook_delivery_attempt
from pressroom.jobs.services.artifacts import PUBLISH_DUE_TASK, SCREEN_TASK, artifacts_publish_due, artifacts_screen
from pressroom.schedules.services import RUN_TASK as RUN_SCHEDULE_TASK
from pressroom.schedules.services import campaign_schedule_run

from pressroom_workers.executor import JobBatchExecutor
from pressroom_workers.heartbeat import report_models
from pressroom_workers.runtime import get_runtime
from pressroom_workers.safety import ensure_configured_toxicity_scorer

logger = logging.getLogger(__name__)

BATCH_DONE = "batch-done"


class JobBatches(Batches):
    """celery-batches with delivery rules for GPU work.

    Messages are acknowledged only after their jobs' results are committed. If the
    batch raises (database gone, ...) or its pool process dies (SIGKILL, OOM killer,
    hard time limit), every message is rejected back to the queue so another worker
    runs it; job_start counts the attempt and skips jobs that already finished.
    """

    def flush(self, requests: Any) -> Any:
        serializable = ([SimpleRequest.from_request(request) for request in requests],)

        def on_return(result: Any) -> None:
            for request in requests:
                if result == BATCH_DONE:
                    request.acknowledge()
                else:
                    request.reject(requeue=True)

        def on_error(error: Any) -> None:
            job_ids = [request.kwargs.get("job_id") for request in requests]
            logger.error("Batch of %d jobs lost (%r); requeueing jobs %s", len(requests), error, ", ".join(map(str, job_ids)))
            _release_leases(job_ids, requests[0].hostname if requests else "")
            for request in requests:
                request.reject(requeue=True)

        return self._pool.apply_async(
            apply_batches_task,
            (self, serializable, 0, None),
            callback=on_return,
            error_callback=on_error,
            timeout=pressroom_settings.HARD_TIME_LIMIT_SECONDS,
        )


def _release_leases(job_ids: list, worker: str) -> None:
    """Its pool process died: any worker may take these jobs now, not only after the lease."""
    from django.db import close_old_connections
    from pressroom.jobs.services import jobs_lease_release

    try:
        jobs_lease_release(job_ids=job_ids, worker=worker or "")
    except Exception:  # noqa: BLE001 - the lease then lapses on its own
        logger.warning("Could not release the leases of jobs %s", job_ids, exc_info=True)
    finally:
        close_old_connections()


@app.task(
    base=JobBatches,
    name=RUN_JOBS_TASK,
    acks_late=True,
    flush_every=pressroom_settings.BATCH_SIZE,
    flush_interval=pressroom_settings.BATCH_WAIT_SECONDS,
)
def run_jobs(requests: list[SimpleRequest]) -> str:
    job_ids = [request.kwargs["job_id"] for request in requests]
    worker = requests[0].hostname or "" if requests else ""
    runtime = get_runtime()
    report = JobBatchExecutor(runtime, worker_name=worker).run(job_ids)
    logger.info("Batch of %d jobs: %s", len(job_ids), report)
    if worker:
        report_models(worker, runtime)
    return BATCH_DONE


@app.task(name=SCREEN_TASK, acks_late=True, queue="cpu")
def screen_artifacts(artifact_ids: list[str]) -> None:
    """Screen new revisions (edits, redactions). Idempotent: screened ones are skipped."""
    ensure_configured_toxicity_scorer()
    artifacts_screen(artifact_ids=artifact_ids, actor=Actor.worker(screen_artifacts.request.hostname or "worker"))


@app.task(name=DELIVER_TASK, bind=True, acks_late=True, queue="cpu", max_retries=None)
def deliver_webhook(self, delivery_id: int) -> None:
    """One delivery attempt; the service logs it and says when to try again."""
    retry_in = webhook_delivery_attempt(delivery_id=delivery_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@app.task(name="pressroom.audit.checkpoint", queue="sweeper")
def audit_checkpoint() -> int:
    """Scheduled by celery beat: sign every workspace's chain head."""
    from pressroom.audit.checkpoints import audit_checkpoints_write

    return len(audit_checkpoints_write())


@app.task(name=PUBLISH_DUE_TASK, queue="sweeper", ignore_result=True)
def publish_due() -> int:
    """Scheduled by celery beat: publish the scheduled artifacts whose time has come."""
    published = artifacts_publish_due()
    if published:
        logger.info("Published %d scheduled artifacts", published)
    return published


@app.task(name=RUN_SCHEDULE_TASK, queue="sweeper", ignore_result=True)
def run_campaign_schedule(schedule_id: str) -> str | None:
    """Sent by celery beat on a recurring campaign's cron: create its campaign."""
    campaign = campaign_schedule_run(schedule_id=schedule_id)
    return str(campaign.pk) if campaign else None


@app.task(name="pressroom.jobs.sweep", queue="sweeper", ignore_result=True)
def sweep() -> dict:
    """Scheduled by celery beat: requeue jobs whose worker was lost, send unsent messages."""
    from pressroom.jobs.services import jobs_sweep

    report = jobs_sweep()
    if any(report.values()):
        logger.info("Sweeper: %s", report)
    return report
