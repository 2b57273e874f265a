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
