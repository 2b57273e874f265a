"""Workers report themselves to the database for the operators' status page: the main
process every HEARTBEAT_SECONDS (queues, pid), each pool process after a batch (device,
models it holds). A report that fails is logged, never fatal to the worker."""
from __future__ import annotations

import logging
import os
import threading

from celery.signals import worker_ready, worker_shutdown
from django.db import close_old_connections
from pressroom.jobs.operations import worker_heartbeat_record

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 30
_stop = threading.Event()


def _report(**fields) -> bool:
    try:
        close_old_connections()
        worker_heartbeat_record(**fields)
        return True
    except Exception:  # noqa: BLE001
        logger.warning("Worker heartbeat failed", exc_info=True)
        return False
    finally:
        close_old_connections()


def _beat(name: str, queues: list[str]) -> None:
    while not _stop.is_set():
        _report(name=name, queues=queues, pid=os.getpid())
        _stop.wait(HEARTBEAT_SECONDS)


@worker_ready.connect
def _report_safety_scorers(sender, **kwargs) -> None:
    """Decided once at start-up (an offline install never tries a download): logged, and
    reported for the status page."""
    from pressroom.safety.status import safety_scorers
    from pressroom_workers.safety import log_toxicity_choice

    choice = log_toxicity_choice()
    toxicity = f"detoxify ({choice.why})" if choice.use_detoxify else f"alt-profanity-check, offline baseline ({choice.why})"
    _report(name=sender.hostname, safety_scorers=safety_scorers(toxicity))


@worker_ready.connect
def _start_heartbeat(sender, **kwargs) -> None:
    queues = sorted(queue.name for queue in sender.app.amqp.queues.consume_from.values())
    threading.Thread(target=_beat, args=(sender.hostname, queues), name="pressroom-heartbeat", daemon=True).start()


@worker_shutdown.connect
def _stop_heartbeat(**kwargs) -> None:
    _stop.set()


_reported_models: list[str] = []  # what this pool process last reported


def report_models(worker_name: str, runtime) -> None:
    """From a pool process after a batch: which models it holds and on which device.
    Written only when that changed (a model was loaded), not after every batch."""
    loaded = runtime.loaded_aliases()
    if loaded == _reported_models:
        return
    devices = sorted({str(runtime.model(alias).backend.device) for alias in loaded})
    if _report(name=worker_name, loaded_models=loaded, devices=devices):
        _reported_models[:] = loaded
