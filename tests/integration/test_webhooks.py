"""Signed webhooks to a real HTTP receiver on loopback, delivered by a real worker."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pressroom.audit.services import SYSTEM
from pressroom.core.errors import InputInvalid
from pressroom.publishing.models import WebhookDelivery
from pressroom.publishing.services import webhook_endpoint_create, webhook_ping
from pressroom.publishing.signing import SIGNATURE_HEADER, verify
from pressroom_workers.testing import wait_for
from pressroom.accounts.access import Access

pytestmark = pytest.mark.worker


class FlakyReceiver(BaseHTTPRequestHandler):
    """Verifies every signature; answers 500 twice, then 200."""

    secret = ""
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        valid = verify(self.secret, body, self.headers.get(SIGNATURE_HEADER, ""))
        self.received.append({"valid": valid, "event": self.headers.get("X-Pressroom-Event"), "body": json.loads(body)})
        code = 200 if len(self.received) > 2 and valid else (401 if not valid else 500)
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b"ok" if code == 200 else b"try again")

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    FlakyReceiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyReceiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_delivery_retries_until_the_receiver_accepts(start_worker, workspace, receiver, settings):
    settings.PRESSROOM = {"WEBHOOK_ALLOW_PRIVATE": True}  # the receiver is on loopback
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hooks"
    endpoint = webhook_endpoint_create(access=Access.system(workspace), url=url, events=["artifact.published"])
    FlakyReceiver.secret = endpoint.secret
    delivery = webhook_ping(endpoint=endpoint, access=Access.system(endpoint.workspace))
    worker = start_worker(PRESSROOM_WEBHOOK_ALLOW_PRIVATE="1", PRESSROOM_WEBHOOK_BACKOFF_SECONDS="0.5")
    wait_for(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status != "pending", timeout=60, what="delivery")
    delivery.refresh_from_db()
    assert delivery.status == "succeeded", worker.log()
    log = list(delivery.attempt_log.values_list("number", "status_code"))
    assert log == [(1, 500), (2, 500), (3, 200)]
    assert all(r["valid"] for r in FlakyReceiver.received) and len(FlakyReceiver.received) == 3
    assert FlakyReceiver.received[0]["event"] == "ping"


def test_private_and_loopback_targets_are_refused(workspace):
    for url in ["http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://localhost/x", "ftp://example.com/x", "http://[::1]/x"]:
        with pytest.raises(InputInvalid) as error:
            webhook_endpoint_create(access=Access.system(workspace), url=url, events=["job.failed"])
        assert "url" in error.value.field_errors, url


class SwitchableReceiver(BaseHTTPRequestHandler):
    """A CMS that is down (503) until `up` is set; records what it accepted."""

    up = False
    accepted: list = []
    refused = 0

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if SwitchableReceiver.up:
            SwitchableReceiver.accepted.append(body)
        else:
            SwitchableReceiver.refused += 1
        self.send_response(200 if SwitchableReceiver.up else 503)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def cms():
    SwitchableReceiver.up, SwitchableReceiver.accepted, SwitchableReceiver.refused = False, [], 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), SwitchableReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    server.shutdown()


def test_an_endpoint_that_keeps_failing_pauses_and_resuming_sends_what_waited(start_worker, workspace, cms, settings):
    from pressroom.audit.models import AuditEvent
    from pressroom.publishing.services import webhook_endpoint_resume, webhook_event_emit

    settings.PRESSROOM = {"WEBHOOK_ALLOW_PRIVATE": True, "WEBHOOK_PAUSE_AFTER_FAILURES": 3}
    endpoint = webhook_endpoint_create(access=Access.system(workspace), url=cms, events=["job.failed"])
    first = webhook_event_emit(workspace_id=workspace.pk, event="job.failed", data={"n": 1})[0]
    worker = start_worker(PRESSROOM_WEBHOOK_ALLOW_PRIVATE="1", PRESSROOM_WEBHOOK_BACKOFF_SECONDS="0.2",
                          PRESSROOM_WEBHOOK_PAUSE_AFTER_FAILURES="3")
    try:
        wait_for(lambda: type(endpoint).objects.get(pk=endpoint.pk).paused_at is not None, timeout=60, what="the breaker")
    except TimeoutError:
        pytest.fail(f"not paused; receiver refused {SwitchableReceiver.refused}; worker log:\n{worker.log()[-3000:]}")
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 3 and "HTTP 503" in endpoint.pause_reason
    assert AuditEvent.objects.filter(workspace=workspace, action="webhook.paused").count() == 1

    second = webhook_event_emit(workspace_id=workspace.pk, event="job.failed", data={"n": 2})[0]
    refused_so_far = SwitchableReceiver.refused
    SwitchableReceiver.up = True
    import time

    time.sleep(2)  # a paused endpoint is not tried at all, even once the CMS is back
    assert SwitchableReceiver.accepted == [] and SwitchableReceiver.refused == refused_so_far
    assert WebhookDelivery.objects.get(pk=second.pk).status == "pending"

    assert webhook_endpoint_resume(endpoint=endpoint, access=Access.system(workspace)) == 2
    # The receiver answers before the worker records the attempt: wait for the records.
    wait_for(lambda: set(WebhookDelivery.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True))
             == {"succeeded"}, timeout=60, what="the waiting deliveries")
    assert sorted(body["data"]["n"] for body in SwitchableReceiver.accepted) == [1, 2]
    endpoint.refresh_from_db()
    assert endpoint.paused_at is None and endpoint.consecutive_failures == 0


def test_resuming_needs_a_paused_endpoint_and_the_webhooks_scope(workspace):
    from pressroom.accounts.models import Role
    from pressroom.core.errors import InvalidTransition, NotAllowed
    from pressroom.publishing.services import webhook_endpoint_resume
    from tests.factories import access_of, member

    endpoint = webhook_endpoint_create(access=Access.system(workspace), url="https://93.184.216.34/hooks", events=["job.failed"])
    with pytest.raises(InvalidTransition):
        webhook_endpoint_resume(endpoint=endpoint, access=Access.system(workspace))
    type(endpoint).objects.filter(pk=endpoint.pk).update(paused_at="2026-01-01T00:00:00Z")
    with pytest.raises(NotAllowed):
        webhook_endpoint_resume(endpoint=endpoint, access=access_of(member(workspace, Role.EDITOR, "eve"), workspace))
