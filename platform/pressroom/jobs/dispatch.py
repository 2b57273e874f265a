"""Hand jobs to Celery by task name, through a transactional outbox.

A job's change and its `JobDispatch` row commit together; after the commit the message is
published with short connect and send timeouts, in a helper thread the request waits on
for at most PUBLISH_TIMEOUT_SECONDS. Whatever the broker does (refuses, stays silent, is
slow), the caller gets its answer in time and nothing is lost: an unsent row stays for the
sweeper (`dispatches_relay`), which publishes it once the broker answers. The platform
never imports worker code.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from pressroom.celery import RUN_JOBS_TASK, app
from pressroom.conf import pressroom_settings
from pressroom.jobs.models import Job, JobDispatch

logger = logging.getLogger(__name__)
# A few threads: a broker that hangs can hold at most these, never a web worker.
_publisher = ThreadPoolExecutor(max_workers=4, thread_name_prefix="pressroom-publish")


def celery_priority(job_priority: int) -> int:
    """Job priority 9 is most urgent; Celery's Redis emulation serves 0 first."""
    return 9 - job_priority


def fair_priority(job: Job) -> int:
    """Fair scheduling by workspace on top of priority: a job's message loses one priority
    level each time its workspace's backlog (in this modality, ahead of it) doubles -- the
    2nd job one level, the 3rd-4th two, the 5th-8th three, and so on. Another workspace's
    first job is then served after a handful of a flood's jobs, not after all of it.
    (Brokers with priorities: Redis, RabbitMQ. The filesystem broker serves in order.)"""
    return fair_priority_for(job, workspace_backlog_before(job).count())


def workspace_backlog_before(job: Job) -> QuerySet[Job]:
    """The job's workspace's queued jobs in its modality created before it. Only whether the
    backlog reaches 2**priority matters (the priority floors at 0), so the count stops there:
    a flood of thousands costs this count no more than a few hundred rows."""
    jobs = Job.objects.filter(workspace_id=job.workspace_id, modality=job.modality, status="queued",
                              created_at__lt=job.created_at)
    # The order of the index job_ws_status_created: without it, on a table not analysed yet,
    # PostgreSQL walked the queue index and filtered out every other workspace's jobs (12 ms
    # behind 13,000 queued jobs; 0.1 ms so).
    return jobs.order_by("-created_at")[:2 ** job.priority]


def fair_priority_for(job: Job, backlog: int) -> int:
    return max(0, job.priority - backlog.bit_length())


@dataclass(frozen=True)
class Message:
    dispatch_id: int
    job_id: str
    modality: str
    priority: int
    countdown: float | None


def _message(dispatch: JobDispatch, job: Job, priority: int | None = None) -> Message:
    wait = (dispatch.available_at - timezone.now()).total_seconds()
    priority = fair_priority(job) if priority is None else priority
    return Message(dispatch.pk, str(job.pk), job.modality, priority, wait if wait > 0 else None)


def _transport_options() -> dict:
    timeout = pressroom_settings.PUBLISH_TIMEOUT_SECONDS
    return {**app.conf.broker_transport_options, "socket_timeout": timeout, "socket_connect_timeout": timeout,
            "read_timeout": timeout, "write_timeout": timeout, "max_retries": 0}


_connections = threading.local()  # one producer connection per publishing thread and broker


def _connection():
    url = app.conf.broker_url
    cached = getattr(_connections, "by_url", {}).get(url)
    if cached is None:
        timeout = pressroom_settings.PUBLISH_TIMEOUT_SECONDS
        cached = app.connection_for_write(connect_timeout=timeout, transport_options=_transport_options())
        _connections.by_url = {url: cached}
    return cached


def _forget_connection() -> None:
    for connection in getattr(_connections, "by_url", {}).values():
        try:
            connection.release()
        except Exception:  # noqa: BLE001 - it is broken already
            pass
    _connections.by_url = {}


def _publish(message: Message) -> None:
    """One attempt, no retries: the outbox row is the retry. The thread's connection is
    kept for the next message (no connect per job) and dropped after any failure."""
    try:
        app.send_task(RUN_JOBS_TASK, kwargs={"job_id": message.job_id, "modality": message.modality},
                      priority=celery_priority(message.priority), countdown=message.countdown,
                      connection=_connection(), retry=False)
    except Exception:
        _forget_connection()
        raise


def _publish_or_error(message: Message) -> str | None:
    """Runs in a publishing thread: no database work here (a thread would open a database
    connection of its own for each message)."""
    try:
        _publish(message)
    except Exception as error:  # noqa: BLE001 - any broker failure: the sweeper sends it later
        return f"{type(error).__name__}: {error}"
    return None


def _settle(message: Message, error: str | None) -> bool:
    if error is None:
        _delete_dispatches([message.dispatch_id])  # the broker has it
        return True
    logger.warning("Broker did not take job %s (%s); the sweeper will send it", message.job_id, error)
    JobDispatch.objects.filter(pk=message.dispatch_id).update(last_error=error[:1000])
    return False


def _delete_dispatches(dispatch_ids: list[int]) -> None:
    """One statement, no transaction around it (QuerySet.delete() adds BEGIN and COMMIT:
    two more round trips on every job submission)."""
    if dispatch_ids:
        placeholders = ", ".join(["%s"] * len(dispatch_ids))
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {JobDispatch._meta.db_table} WHERE id IN ({placeholders})", list(dispatch_ids))


def _send_now(message: Message) -> bool:
    return _settle(message, _publish_or_error(message))


def dispatch_after_commit(message: Message) -> bool:
    """Try to publish now, waiting at most PUBLISH_TIMEOUT_SECONDS (and a little more); a
    broker that takes longer leaves the row for the sweeper."""
    future = _publisher.submit(_publish_or_error, message)
    try:
        error = future.result(timeout=pressroom_settings.PUBLISH_TIMEOUT_SECONDS + 0.5)
    except FutureTimeout:
        logger.warning("Broker slow: job %s is sent by the sweeper", message.job_id)
        return False
    return _settle(message, error)


def job_dispatch(*, job: Job, countdown: float | None = None, priority: int | None = None) -> JobDispatch:
    """Write the job's outbox row in the caller's transaction; publish it after commit. The
    caller stamps the job's `dispatched_at` in the same write that changed it. `priority`:
    the job's fair priority where the caller counted it already (else it is counted here)."""
    available_at = timezone.now() + timedelta(seconds=countdown or 0)
    dispatch = JobDispatch.objects.create(job=job, available_at=available_at)
    message = _message(dispatch, job, priority)
    transaction.on_commit(lambda: dispatch_after_commit(message))
    return dispatch


def jobs_dispatch_many(*, jobs: list[Job]) -> None:
    """The outbox rows of many new jobs of one workspace and modality (a campaign), written
    in the caller's transaction with one insert; after commit a publishing thread sends
    them without holding up the response, and the sweeper sends whatever it could not.
    Fair priority is counted once: the k-th job has the backlog before it plus k-1 ahead."""
    if not jobs:
        return
    now = timezone.now()
    dispatches = JobDispatch.objects.bulk_create([JobDispatch(job=job, available_at=now) for job in jobs], batch_size=2000)
    first = jobs[0]
    backlog = Job.objects.filter(workspace_id=first.workspace_id, modality=first.modality, status="queued",
                                 created_at__lt=first.created_at).count()
    messages = [Message(dispatch.pk, str(job.pk), job.modality, max(0, job.priority - (backlog + k).bit_length()), None)
                for k, (dispatch, job) in enumerate(zip(dispatches, jobs))]
    transaction.on_commit(lambda: _bulk_publisher.submit(_publish_many, messages))


_bulk_publisher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pressroom-publish-bulk")


def _publish_many(messages: list[Message], chunk: int = 500) -> int:
    """Runs in its own thread: publish in chunks, deleting each chunk's sent rows; stop at
    the first broker failure (the rows left are the sweeper's)."""
    sent = 0
    try:
        for start in range(0, len(messages), chunk):
            part = messages[start:start + chunk]
            done = []
            for message in part:
                error = _publish_or_error(message)
                if error is not None:
                    logger.warning("Broker did not take campaign job %s (%s); the sweeper sends the rest", message.job_id, error)
                    _delete_dispatches(done)
                    return sent + len(done)
                done.append(message.dispatch_id)
            _delete_dispatches(done)
            sent += len(done)
        return sent
    finally:
        connection.close()  # this thread's own connection


def dispatches_relay(*, limit: int = 500, budget_seconds: float = 20.0) -> int:
    """The sweeper's half of the outbox: publish rows that are due and were not sent at
    commit time (older than the grace period, so a commit-time send is not raced). Batch
    after batch until none is left, the broker fails, or the time budget is spent: a
    campaign's thousands of rows left by a broker outage go out in one sweep, not one
    batch per sweep."""
    deadline = time.monotonic() + budget_seconds
    total = 0
    while True:
        sent, complete = _relay_batch(limit)
        total += sent
        if not complete or sent < limit or time.monotonic() > deadline:
            return total


def _relay_batch(limit: int) -> tuple[int, bool]:
    """One transaction's worth; (rows sent, whether the broker took every one)."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=pressroom_settings.DISPATCH_GRACE_SECONDS)
    sent = 0
    with transaction.atomic():
        due = (JobDispatch.objects.select_for_update(skip_locked=True).select_related("job")
               .filter(available_at__lte=now, created_at__lte=cutoff)[:limit])
        for dispatch in due:
            JobDispatch.objects.filter(pk=dispatch.pk).update(attempts=dispatch.attempts + 1)
            if not _send_now(_message(dispatch, dispatch.job)):
                return sent, False  # the broker is still away: try again on the next sweep
            sent += 1
    return sent, True
