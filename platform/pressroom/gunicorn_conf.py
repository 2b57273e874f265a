"""Gunicorn settings for the web process: `gunicorn -c python:pressroom.gunicorn_conf ...`
(runplatform, the README's production command and bench_api use it)."""
from __future__ import annotations

import logging

logger = logging.getLogger("pressroom.web")


def post_worker_init(worker) -> None:
    """Each web worker loads the request-time screening models after it loaded Django and
    before it accepts a connection: otherwise the first job submission it serves waits
    seconds for the encoder and the harm probe, and a load balancer sees a slow worker."""
    from pressroom.safety.services import request_screening_warm_up

    try:
        request_screening_warm_up()
    except Exception:  # noqa: BLE001 - a worker that cannot warm up still serves (screening fails closed)
        logger.exception("Web worker %s could not warm up its screening models", worker.pid)
