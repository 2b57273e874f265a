"""The Webhooks page through Django's test client: admins list, create (the signing secret
shown once), edit, ping, delete, read deliveries and resume a paused endpoint; everyone
else gets a 403 and no nav item; another workspace's endpoints are 404s. Every write goes
through the publishing services (so it is audited)."""
import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from pressroom.accounts.access import Access
from pressroom.accounts.models import Role, Scope
from pressroom.accounts.services import api_key_create
from pressroom.audit.models import AuditEvent
from pressroom.publishing.models import DeliveryAttempt, WebhookDelivery, WebhookEndpoint
from pressroom.publishing.services import webhook_delivery_attempt, webhook_endpoint_create, webhook_event_emit

from tests.factories import WorkspaceFactory, member

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.216.34/hooks"  # a global address literal: no DNS, no private-target refusal
PRIVATE_URL = "http://127.0.0.1:9000/hook"
SETTING = "PRESSROOM_WEBHOOK_ALLOW_PRIVATE"


def url(name, workspace, *args):
    return reverse(f"dashboard:{name}", args=[workspace.slug, *args])


def endpoint_in(workspace, url=PUBLIC_URL, events=("job.failed",)):
    return webhook_endpoint_create(access=Access.system(workspace), url=url, events=list(events))


def pause(endpoint, failures=10, reason="10 failed attempts in a row; the last: HTTP 503"):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(paused_at=timezone.now(), consecutive_failures=failures,
                                                          pause_reason=reason)
    endpoint.refresh_from_db()
    return endpoint


def page(response) -> str:
    return response.content.decode()


@pytest.fixture
def admin(client, admin_member):
    client.force_login(admin_member)
    return client


@pytest.fixture
def broker():
    """The Redis broker the services enqueue to, emptied for this test."""
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    client.flushdb()
    return client


def queued_delivery_ids(client) -> list[int]:
    """The delivery ids of the webhook tasks waiting in the cpu queue (and its priority sub-queues)."""
    ids = []
    for key in client.keys("cpu*"):
        if client.type(key) != b"list":
            continue
        for raw in client.lrange(key, 0, -1):
            message = json.loads(raw)
            if message["headers"]["task"] == "pressroom.publishing.deliver":
                _args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
                ids.append(kwargs["delivery_id"])
    return sorted(ids)


# -- listing and creating --------------------------------------------------------------
def test_admin_creates_a_webhook_and_sees_its_secret_once(admin, workspace):
    response = admin.post(url("webhooks", workspace), {"url": PUBLIC_URL, "events": ["job.failed", "artifact.published"],
                                                       "description": "The CMS"}, follow=True)
    endpoint = WebhookEndpoint.objects.get(workspace=workspace)
    assert response.redirect_chain == [(url("webhooks", workspace), 302)]  # a reload cannot create a second one
    assert endpoint.secret in page(response) and "shown only this once" in page(response)
    assert endpoint.events == ["artifact.published", "job.failed"] and endpoint.description == "The CMS"
    assert AuditEvent.objects.filter(workspace=workspace, action="webhook.created").count() == 1

    again = admin.get(url("webhooks", workspace))
    assert endpoint.secret not in page(again)
    assert PUBLIC_URL in page(again) and "The CMS" in page(again)


def test_the_list_shows_events_state_and_the_last_delivery(admin, workspace):
    healthy = endpoint_in(workspace, events=["job.failed", "job.succeeded"])
    WebhookDelivery.objects.create(endpoint=healthy, event="job.failed", payload={}, status="failed")
    WebhookDelivery.objects.create(endpoint=healthy, event="job.failed", payload={}, status="succeeded")
    endpoint_in(workspace, url="https://93.184.216.35/other")
    html = page(admin.get(url("webhooks", workspace)))
    row = html[html.index(f'id="endpoint-{healthy.pk}"'):].split("</tr>")[0]
    assert "job.succeeded" in row and "job.failed" in row
    assert "status-succeeded\">Succeeded" in row  # the newest delivery, not the failed one before it
    assert "none yet" in html  # the second endpoint has had no delivery
    assert 'aria-current="page">Webhooks</a>' in html


def test_a_refused_create_keeps_the_form_and_says_why(admin, workspace):
    response = admin.post(url("webhooks", workspace), {"url": "not a url", "events": []})
    assert response.status_code == 400
    assert "Choose at least one event." in page(response) and "Enter a full web address" in page(response)
    assert not WebhookEndpoint.objects.exists()


# -- the loopback/private refusal names the operator's setting -------------------------
def test_a_private_target_is_refused_naming_the_setting_on_the_page(admin, workspace):
    response = admin.post(url("webhooks", workspace), {"url": PRIVATE_URL, "events": ["job.failed"]})
    assert response.status_code == 400
    field_error = page(response).split('id="err-url"')[1].split("</div>")[0]
    assert "127.0.0.1 is a private, loopback or reserved address" in field_error
    assert f"{SETTING}=true" in field_error
    assert not WebhookEndpoint.objects.exists()


def test_a_private_target_is_refused_naming_the_setting_over_the_api(workspace):
    _key, token = api_key_create(access=Access.system(workspace), name="cms", scopes=[Scope.WEBHOOKS_MANAGE])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api.post(reverse("api:webhook-list"), {"url": PRIVATE_URL, "events": ["job.failed"]}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert SETTING in error["message"]
    assert any(f"{SETTING}=true" in text for text in error["fields"]["url"])
    assert not WebhookEndpoint.objects.exists()


def test_a_private_target_is_accepted_when_the_operator_allows_it(admin, workspace, settings):
    settings.PRESSROOM = {**settings.PRESSROOM, "WEBHOOK_ALLOW_PRIVATE": True}
    admin.post(url("webhooks", workspace), {"url": PRIVATE_URL, "events": ["job.failed"]})
    assert WebhookEndpoint.objects.filter(workspace=workspace, url=PRIVATE_URL).exists()


# -- editing, pinging, deleting ----------------------------------------------------------
def test_admin_edits_events_active_and_description(admin, workspace):
    endpoint = endpoint_in(workspace)
    form = page(admin.get(url("webhook", workspace, endpoint.pk)))
    assert PUBLIC_URL in form and 'value="job.failed"' in form
    response = admin.post(url("webhook", workspace, endpoint.pk), {"events": ["artifact.published"], "description": "Off for now"})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.events == ["artifact.published"] and endpoint.active is False and endpoint.description == "Off for now"
    assert AuditEvent.objects.filter(workspace=workspace, action="webhook.updated").count() == 1


def test_an_edit_with_no_event_is_refused_in_plain_words(admin, workspace):
    endpoint = endpoint_in(workspace)
    response = admin.post(url("webhook", workspace, endpoint.pk), {"events": [], "active": "on"})
    assert response.status_code == 400 and "Choose at least one event." in page(response)
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).events == ["job.failed"]


def test_ping_queues_a_test_event(admin, workspace, broker, django_capture_on_commit_callbacks):
    endpoint = endpoint_in(workspace)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(url("webhook_ping", workspace, endpoint.pk), follow=True)
    ping = WebhookDelivery.objects.get(endpoint=endpoint)
    assert ping.event == "ping" and ping.status == "pending"
    assert queued_delivery_ids(broker) == [ping.pk]
    assert f"Ping sent (delivery {ping.pk})" in page(response)


def test_delete_asks_first_then_deletes(admin, workspace):
    endpoint = endpoint_in(workspace)
    confirm = admin.get(url("webhook_delete", workspace, endpoint.pk))
    assert confirm.status_code == 200 and PUBLIC_URL in page(confirm) and "Delete webhook" in page(confirm)
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()  # asking deletes nothing
    response = admin.post(url("webhook_delete", workspace, endpoint.pk), follow=True)
    assert "deleted" in page(response) and not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert AuditEvent.objects.filter(workspace=workspace, action="webhook.deleted").count() == 1


# -- deliveries ---------------------------------------------------------------------------
def test_deliveries_newest_first_paginated_with_each_attempt(admin, workspace):
    endpoint = endpoint_in(workspace)
    deliveries = [WebhookDelivery.objects.create(endpoint=endpoint, event="job.failed", payload={"data": {"n": n}})
                  for n in range(25)]
    tried = deliveries[-1]
    DeliveryAttempt.objects.create(delivery=tried, number=1, status_code=503, duration_ms=120, error="Service Unavailable")
    DeliveryAttempt.objects.create(delivery=tried, number=2, status_code=None, duration_ms=10_000, error="ReadTimeout: timed out")

    first = page(admin.get(url("webhook_deliveries", workspace, endpoint.pk)))
    shown = [int(chunk.split('"')[0]) for chunk in first.split('id="delivery-')[1:]]
    assert shown == [d.pk for d in reversed(deliveries)][:20]  # newest first, 20 a page
    assert "503" in first and "120 ms" in first and "Service Unavailable" in first and "ReadTimeout: timed out" in first
    assert "<details><summary>Payload</summary>" in first and "&quot;n&quot;: 24" in first
    assert "Page 1 of 2" in first

    second = page(admin.get(url("webhook_deliveries", workspace, endpoint.pk) + "?page=2"))
    assert [int(chunk.split('"')[0]) for chunk in second.split('id="delivery-')[1:]] == [d.pk for d in reversed(deliveries[:5])]


# -- the circuit breaker --------------------------------------------------------------------
class Receiver(BaseHTTPRequestHandler):
    """A CMS on loopback that accepts everything and records the events."""

    received: list = []

    def do_POST(self):
        Receiver.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def cms(settings):
    settings.PRESSROOM = {**settings.PRESSROOM, "WEBHOOK_ALLOW_PRIVATE": True}  # the receiver is on loopback
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    server.shutdown()


def test_a_paused_endpoint_shows_why_and_resume_sends_what_waited(admin, workspace, cms, broker,
                                                                   django_capture_on_commit_callbacks):
    endpoint = pause(endpoint_in(workspace, url=cms))
    with django_capture_on_commit_callbacks(execute=True):
        waiting = [webhook_event_emit(workspace_id=workspace.pk, event="job.failed", data={"n": n})[0] for n in (1, 2)]
    assert queued_delivery_ids(broker) == []  # a paused endpoint's events wait, unsent
    assert webhook_delivery_attempt(delivery_id=waiting[0].pk) is None and Receiver.received == []

    html = page(admin.get(url("webhooks", workspace)))
    assert "Paused" in html and "10 failed attempts in a row; the last: HTTP 503" in html
    assert "after 10 failed attempts in a row" in html and f"Resume {cms}" in html

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(url("webhook_resume", workspace, endpoint.pk), follow=True)
    assert "resumed: 2 waiting deliveries sent" in page(response)
    assert queued_delivery_ids(broker) == sorted(d.pk for d in waiting)
    endpoint.refresh_from_db()
    assert endpoint.paused_at is None and endpoint.consecutive_failures == 0
    assert AuditEvent.objects.filter(workspace=workspace, action="webhook.resumed").count() == 1

    for delivery in waiting:  # what a worker does with the queued tasks
        webhook_delivery_attempt(delivery_id=delivery.pk)
    assert [event["data"] for event in Receiver.received] == [{"n": 1}, {"n": 2}]
    assert set(WebhookDelivery.objects.filter(endpoint=endpoint).values_list("status", flat=True)) == {"succeeded"}
    assert "Paused" not in page(admin.get(url("webhooks", workspace)))


def test_resuming_an_endpoint_that_is_not_paused_says_so(admin, workspace):
    endpoint = endpoint_in(workspace)
    response = admin.post(url("webhook_resume", workspace, endpoint.pk), follow=True)
    assert "This endpoint is not paused." in page(response)


# -- who may see it -----------------------------------------------------------------------------
@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR, Role.REVIEWER])
def test_anyone_but_an_admin_gets_403_and_no_nav_item(client, workspace, role):
    client.force_login(member(workspace, role, f"not-admin-{role}"))
    endpoint = endpoint_in(workspace)
    assert client.get(url("webhooks", workspace)).status_code == 403
    assert client.get(url("webhook_deliveries", workspace, endpoint.pk)).status_code == 403
    assert client.post(url("webhook_ping", workspace, endpoint.pk)).status_code == 403
    assert client.post(url("webhook_delete", workspace, endpoint.pk)).status_code == 403
    assert not WebhookDelivery.objects.exists() and WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    catalogue = page(client.get(url("catalogue", workspace)))
    assert url("webhooks", workspace) not in catalogue and ">Webhooks<" not in catalogue


def test_an_admin_sees_the_nav_item(admin, workspace):
    assert f'href="{url("webhooks", workspace)}"' in page(admin.get(url("catalogue", workspace)))


def test_another_workspaces_endpoint_is_not_found(admin, workspace):
    theirs = pause(endpoint_in(WorkspaceFactory(), url="https://93.184.216.36/theirs"))
    assert theirs.url not in page(admin.get(url("webhooks", workspace)))
    for name in ("webhook", "webhook_deliveries", "webhook_delete"):
        assert admin.get(url(name, workspace, theirs.pk)).status_code == 404, name
    for name in ("webhook", "webhook_ping", "webhook_resume", "webhook_delete"):
        assert admin.post(url(name, workspace, theirs.pk), {"events": ["job.failed"]}).status_code == 404, name
    theirs.refresh_from_db()
    assert theirs.is_paused and theirs.events == ["job.failed"] and not theirs.deliveries.exists()


def test_a_ping_to_a_paused_endpoint_says_it_waits(admin, workspace):
    endpoint = pause(endpoint_in(workspace))
    response = admin.post(url("webhook_ping", workspace, endpoint.pk), follow=True)
    assert "the endpoint is paused, so it waits until you resume it" in page(response)
    assert WebhookDelivery.objects.get(endpoint=endpoint).status == "pending"
