"""Logs an operator can use: expected refusals without tracebacks, polls not logged."""
import logging

import pytest
from django.urls import reverse

from pressroom.core.logging import NoTracebackForClientErrors, QuietPollingLogger
from tests.factories import WorkspaceFactory, member

pytestmark = pytest.mark.django_db


def test_a_403_is_logged_in_one_line_without_its_traceback(client, caplog):
    workspace = WorkspaceFactory()
    client.force_login(member(workspace, "viewer", "vic"))
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(reverse("dashboard:settings", args=[workspace.slug])).status_code == 403
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    # The configured console handler's filter has run on this very record.
    assert record.exc_info is None and "Traceback" not in logging.Formatter().format(record)
    assert record.getMessage().startswith("Forbidden (Permission denied)")


def test_a_server_error_keeps_its_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error", (),
                                   (type(error), error, error.__traceback__))
    record.status_code = 500
    NoTracebackForClientErrors().filter(record)
    assert "Traceback" in logging.Formatter().format(record)


class _Config:
    """The settings gunicorn's logger reads."""

    errorlog, accesslog, loglevel, capture_output, syslog, disable_redirect_access_to_syslog = "-", "-", "info", False, False, False
    access_log_format = '%(h)s "%(r)s" %(s)s'
    logconfig = logconfig_dict = logconfig_json = None
    user, group = 0, 0
    env = {}


def test_live_job_polls_are_left_out_of_the_access_log(capsys):
    from types import SimpleNamespace

    logger = QuietPollingLogger(_Config())
    response = SimpleNamespace(status="200 OK", sent=10, headers=[], response_length=10)
    for path in ("/w/team/jobs/1/live/", "/w/team/jobs/1/"):
        request = SimpleNamespace(headers=[], method="GET", path=path, query="", version=(1, 1), uri=path)
        environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "RAW_URI": path, "SERVER_PROTOCOL": "HTTP/1.1",
                   "REMOTE_ADDR": "127.0.0.1", "QUERY_STRING": ""}
        logger.access(response, request, environ, __import__("datetime").timedelta(seconds=0.01))
    out = capsys.readouterr()
    logged = out.out + out.err
    assert "/w/team/jobs/1/" in logged and "/live/" not in logged
