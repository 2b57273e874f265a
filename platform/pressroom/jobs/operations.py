"""What operators need to see: configured models, queue depths, workers seen recently."""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from kombu.exceptions import ChannelError

from pressroom.celery import app
from pressroom.conf import pressroom_settings
from pressroom.jobs.models import Job, JobStatus, WorkerHeartbeat
from pressroom.safety.status import web_safety_scorers

logger = logging.getLogger(__name__)
RECENT = timedelta(minutes=2)


@transaction.atomic
def worker_heartbeat_record(*, name: str, queues: list[str] | None = None, devices: list[str] | None = None,
                            loaded_models: list[str] | None = None, pid: int | None = None,
                            safety_scorers: dict[str, str] | None = None) -> None:
    """Upsert a worker's report; fields left as None keep their last value. Models and
    devices are added to what the worker's other pool processes reported, not replacing it."""
    heartbeat, created = WorkerHeartbeat.objects.select_for_update().get_or_create(
        name=name[:255], defaults={"last_seen": timezone.now(), "started_at": timezone.now()})
    heartbeat.last_seen = timezone.now()
    if loaded_models is not None:
        heartbeat.loaded_models = sorted(set(heartbeat.loaded_models) | set(loaded_models))
    if devices is not None:
        heartbeat.device = ", ".join(sorted(set(filter(None, heartbeat.device.split(", "))) | set(devices)))
    for field, value in (("queues", queues), ("pid", pid), ("safety_scorers", safety_scorers)):
        if value is not None:
            setattr(heartbeat, field, value)
    heartbeat.save()


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    broker_messages: int | None  # None: the broker could not be asked
    queued_jobs: int
    running_jobs: int


def _queue_depth(connection, queue: str) -> int:
    try:
        return connection.default_channel.queue_declare(queue=queue, passive=True).message_count
    except ChannelError:
        return 0  # Redis keeps no key for an empty queue: "not found" means nothing waits


def _broker_depths(queues: list[str]) -> dict[str, int | None]:
    depths: dict[str, int | None] = dict.fromkeys(queues)
    try:
        with app.connection_for_read(connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)  # a status page must not hang on a dead broker
            for queue in queues:
                depths[queue] = _queue_depth(connection, queue)
    except Exception:  # noqa: BLE001 - a status page must render while the broker is down
        logger.warning("Could not read queue depths from the broker", exc_info=True)
    return depths


def queue_depths() -> list[QueueDepth]:
    by_modality = pressroom_settings.QUEUES
    queues = sorted(set(by_modality.values()))
    counts = Job.objects.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING)).values("modality", "status").annotate(n=Count("pk"))
    per_queue: dict[str, Counter] = {queue: Counter() for queue in queues}
    for row in counts:
        per_queue.setdefault(by_modality.get(row["modality"], "cpu"), Counter())[row["status"]] += row["n"]
    broker = _broker_depths(list(per_queue))
    return [QueueDepth(queue, broker.get(queue), n[JobStatus.QUEUED], n[JobStatus.RUNNING]) for queue, n in sorted(per_queue.items())]


@dataclass(frozen=True)
class ModelStatus:
    alias: str
    task: str
    source: str
    device: str
    loaded_on: list[str]


def model_statuses(workers: list[WorkerHeartbeat]) -> list[ModelStatus]:
    statuses = []
    for alias, spec in sorted(pressroom_settings.MODELS.items()):
        holders = [worker for worker in workers if alias in worker.loaded_models]
        statuses.append(ModelStatus(
            alias=alias, task=spec.get("task", ""), source=str(spec.get("source") or ""),
            device=", ".join(sorted({w.device for w in holders if w.device})) or spec.get("device", "auto"),
            loaded_on=[worker.name for worker in holders],
        ))
    return statuses


def platform_status() -> dict[str, Any]:
    recent = list(WorkerHeartbeat.objects.filter(last_seen__gte=timezone.now() - RECENT))
    return {
        "models": model_statuses(recent),
        "queues": queue_depths(),
        "workers": recent,
        "web_safety_scorers": web_safety_scorers(),
        "stale_workers": list(WorkerHeartbeat.objects.filter(last_seen__lt=timezone.now() - RECENT)[:20]),
    }
