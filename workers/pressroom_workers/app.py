"""Worker entry point: `celery -A pressroom_workers.app worker`.

Sets up Django, takes the platform's Celery app, and registers the worker tasks.
"""
import django

django.setup()

from pressroom.celery import app  # noqa: E402
from pressroom.conf import pressroom_settings  # noqa: E402

# A batching consumer must hold a batch's worth of unacknowledged messages, and no
# more: at most one batch window per worker process is ever in flight.
app.conf.worker_prefetch_multiplier = pressroom_settings.BATCH_SIZE

import pressroom_workers.tasks  # noqa: E402,F401

__all__ = ["app"]
import pressroom_workers.heartbeat  # noqa: E402,F401
