"""Logs an operator can use at night: expected refusals without tracebacks, no line per
poll of a live page, no line per routine task."""
from __future__ import annotations

import logging


class NoTracebackForClientErrors(logging.Filter):
    """django.request logs 4xx answers (403, 404, ...) with the exception's traceback; they
    are expected and the line alone says what happened."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # web-less installs
    _GunicornLogger = object


class QuietPollingLogger(_GunicornLogger):
    """gunicorn's access log, without the dashboard's once-a-second polls of a live job
    (they are logged only with LOG_LEVEL=DEBUG)."""

    def access(self, resp, req, environ, request_time):
        if environ.get("PATH_INFO", "").endswith("/live/") and not logging.getLogger("pressroom.polling").isEnabledFor(logging.DEBUG):
            return
        super().access(resp, req, environ, request_time)
