"""Webhook endpoints and deliveries, and the publication feed."""
from __future__ import annotations

import json
import logging
import time
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from pressroom.accounts.access import Access
from pressroom.accounts.models import Scope
from pressroom.audit.services import SYSTEM, audit_record
from pressroom.conf import pressroom_settings
from pressroom.core.errors import InputInvalid, InvalidTransition
from pressroom.core.metrics import WEBHOOK_FAILURES
from pressroom.publishing.models import (
    WEBHOOK_EVENTS,
    DeliveryAttempt,
    DeliveryStatus,
    PublicationFeedHead,
    PublishedItem,
    WebhookDelivery,
    WebhookEndpoint,
)
from pressroom.publishing.signing import SIGNATURE_HEADER, sign
from pressroom.publishing.urlguard import check_webhook_url

logger = logging.getLogger(__name__)
DELIVER_TASK = "pressroom.publishing.deliver"
PING_EVENT = "ping"


def _check_events(events: Any) -> list[str]:
    if not isinstance(events, list) or not events or any(e not in WEBHOOK_EVENTS for e in events):
        raise InputInvalid("Invalid events.", {"events": [f"A non-empty list of: {', '.join(WEBHOOK_EVENTS)}."]})
    return sorted(set(events))


def _endpoint_data(endpoint: WebhookEndpoint) -> dict:
    return {"url": endpoint.url, "events": endpoint.events, "active": endpoint.active, "description": endpoint.description}


def _check_endpoint_access(endpoint: WebhookEndpoint, access: Access) -> None:
    access.require_object(endpoint)
    access.require(Scope.WEBHOOKS_MANAGE)


@transaction.atomic
def webhook_endpoint_create(
    *, access: Access, url: str, events: list[str], description: str = "", active: bool = True
) -> WebhookEndpoint:
    access.require(Scope.WEBHOOKS_MANAGE)
    workspace, actor = access.workspace, access.actor
    check_webhook_url(url)
    endpoint = WebhookEndpoint.objects.create(workspace=workspace, url=url, events=_check_events(events),
                                              description=description, active=active)
    audit_record(workspace_id=workspace.pk, action="webhook.created", object_type="webhook", object_id=endpoint.pk,
                 actor=actor, data=_endpoint_data(endpoint))
    return endpoint


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, access: Access, **changes: Any) -> WebhookEndpoint:
    _check_endpoint_access(endpoint, access)
    actor = access.actor
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    before = _endpoint_data(endpoint)
    if "url" in changes:
        check_webhook_url(changes["url"])
    if "events" in changes:
        changes["events"] = _check_events(changes["events"])
    for name in ("url", "events", "active", "description"):
        if name in changes:
            setattr(endpoint, name, changes[name])
    endpoint.save()
    audit_record(workspace_id=endpoint.workspace_id, action="webhook.updated", object_type="webhook", object_id=endpoint.pk,
                 actor=actor, data={"before": before, "after": _endpoint_data(endpoint)})
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, access: Access) -> None:
    _check_endpoint_access(endpoint, access)
    audit_record(workspace_id=endpoint.workspace_id, action="webhook.deleted", object_type="webhook", object_id=endpoint.pk,
                 actor=access.actor, data=_endpoint_data(endpoint))
    endpoint.delete()


def _enqueue_delivery(delivery: WebhookDelivery, countdown: float | None = None) -> None:
    from pressroom.celery import app

    transaction.on_commit(lambda: app.send_task(DELIVER_TASK, kwargs={"delivery_id": delivery.pk}, queue="cpu", countdown=countdown))


def webhook_event_emit(*, workspace_id: int, event: str, data: dict[str, Any]) -> list[WebhookDelivery]:
    """Queue the event for every active endpoint that subscribed to it, inside the
    caller's transaction: an event is delivered only if its change committed."""
    payload = {"event": event, "workspace": workspace_id, "created_at": timezone.now().isoformat(), "data": data}
    deliveries = [
        WebhookDelivery.objects.create(endpoint=endpoint, event=event, payload=payload)
        for endpoint in WebhookEndpoint.objects.filter(workspace_id=workspace_id, active=True)
        if event in endpoint.events
    ]
    for delivery in deliveries:
        if not delivery.endpoint.is_paused:  # a paused endpoint's events wait for its resumption
            _enqueue_delivery(delivery)
    return deliveries


@transaction.atomic
def webhook_ping(*, endpoint: WebhookEndpoint, access: Access) -> WebhookDelivery:
    _check_endpoint_access(endpoint, access)
    payload = {"event": PING_EVENT, "workspace": endpoint.workspace_id, "created_at": timezone.now().isoformat(), "data": {}}
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=PING_EVENT, payload=payload)
    _enqueue_delivery(delivery)
    return delivery


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    import httpx

    endpoint = delivery.endpoint
    body = json.dumps(delivery.payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Pressroom-Webhooks/1",
        "X-Pressroom-Event": delivery.event,
        "X-Pressroom-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: sign(endpoint.secret, body),
    }
    try:
        check_webhook_url(endpoint.url)
        response = httpx.post(endpoint.url, content=body, headers=headers, timeout=pressroom_settings.WEBHOOK_TIMEOUT_SECONDS,
                              follow_redirects=False)
    except InputInvalid as error:
        return None, str(error)
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}: {error}"
    return response.status_code, "" if response.is_success else response.text[:500]


def webhook_delivery_attempt(*, delivery_id: int) -> float | None:
    """Try a delivery once and log the attempt. Returns the seconds to wait before the
    next try, or None when finished (delivered, given up, or nothing to do)."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.PENDING or delivery.endpoint.is_paused:
        return None  # a paused endpoint's delivery waits, pending, and is sent on resumption
    started = time.perf_counter()
    status_code, error = _post(delivery)
    duration_ms = int((time.perf_counter() - started) * 1000)
    succeeded = status_code is not None and 200 <= status_code < 300
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        delivery.attempts += 1
        DeliveryAttempt.objects.create(delivery=delivery, number=delivery.attempts, status_code=status_code,
                                       duration_ms=duration_ms, error=error)
        if succeeded:
            delivery.status, delivery.delivered_at = DeliveryStatus.SUCCEEDED, timezone.now()
        elif delivery.attempts >= pressroom_settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
        delivery.save(update_fields=["attempts", "status", "delivered_at"])
        endpoint = _count_attempt(delivery.endpoint_id, succeeded, error or f"HTTP {status_code}")
    if delivery.status != DeliveryStatus.PENDING or endpoint.is_paused:
        return None
    return min(pressroom_settings.WEBHOOK_BACKOFF_SECONDS * 2 ** (delivery.attempts - 1), 3600)


def _count_attempt(endpoint_id, succeeded: bool, error: str) -> WebhookEndpoint:
    """The circuit breaker: a success closes it, the Nth failure in a row opens it."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    if succeeded:
        if endpoint.consecutive_failures:
            endpoint.consecutive_failures = 0
            endpoint.save(update_fields=["consecutive_failures"])
        return endpoint
    WEBHOOK_FAILURES.inc()
    endpoint.consecutive_failures += 1
    limit = pressroom_settings.WEBHOOK_PAUSE_AFTER_FAILURES
    if endpoint.consecutive_failures >= limit and not endpoint.is_paused:
        endpoint.paused_at = timezone.now()
        endpoint.pause_reason = f"{endpoint.consecutive_failures} failed attempts in a row; the last: {error}"[:1000]
        audit_record(workspace_id=endpoint.workspace_id, action="webhook.paused", object_type="webhook",
                     object_id=endpoint.pk, actor=SYSTEM, data={"failures": endpoint.consecutive_failures, "last_error": error[:500]})
    endpoint.save(update_fields=["consecutive_failures", "paused_at", "pause_reason"])
    return endpoint


@transaction.atomic
def webhook_endpoint_resume(*, endpoint: WebhookEndpoint, access: Access) -> int:
    """Close the breaker and send, oldest first, every delivery that waited. Returns how many."""
    _check_endpoint_access(endpoint, access)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if not endpoint.is_paused:
        raise InvalidTransition("This endpoint is not paused.")
    waiting = list(endpoint.deliveries.filter(status=DeliveryStatus.PENDING).order_by("created_at", "pk"))
    endpoint.paused_at, endpoint.pause_reason, endpoint.consecutive_failures = None, "", 0
    endpoint.save(update_fields=["paused_at", "pause_reason", "consecutive_failures"])
    audit_record(workspace_id=endpoint.workspace_id, action="webhook.resumed", object_type="webhook", object_id=endpoint.pk,
                 actor=access.actor, data={"waiting_deliveries": len(waiting)})
    for delivery in waiting:
        _enqueue_delivery(delivery)
    return len(waiting)


# -- the pull feed ---------------------------------------------------------------------
def webhook_delivery_list(*, endpoint: WebhookEndpoint):
    return endpoint.deliveries.prefetch_related("attempt_log").order_by("-created_at", "-pk")


def feed_append(*, artifact) -> PublishedItem:
    """Give a newly published artifact the next feed position. Must run in the publishing
    transaction: the head row lock makes positions follow commit order, so a poller that
    has read up to position N never misses a later commit with a smaller position. Only a
    published artifact gets a row (the database refuses any other, too)."""
    if artifact.status != "published" or not transaction.get_connection().in_atomic_block:
        raise InvalidTransition(f"Artifact {artifact.pk} is {artifact.status}: only a publication adds it to the feed.")
    PublicationFeedHead.objects.bulk_create([PublicationFeedHead(workspace_id=artifact.workspace_id)], ignore_conflicts=True)
    head = PublicationFeedHead.objects.select_for_update().get(workspace_id=artifact.workspace_id)
    head.last_position += 1
    head.save(update_fields=["last_position"])
    return PublishedItem.objects.create(workspace_id=artifact.workspace_id, position=head.last_position, artifact=artifact,
                                        published_at=artifact.published_at)


def feed_page(*, access: Access, after: int, limit: int) -> list[PublishedItem]:
    return list(PublishedItem.objects.filter(workspace=access.workspace, position__gt=after)
                .select_related("artifact", "artifact__job").order_by("position")[:limit])
