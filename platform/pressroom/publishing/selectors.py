"""Reads of webhook endpoints, scoped by the caller's Access."""
from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from pressroom.accounts.access import Access
from pressroom.publishing.models import WebhookDelivery, WebhookEndpoint


def webhook_endpoint_list(*, access: Access) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(workspace=access.workspace)


def webhook_endpoint_overview(*, access: Access) -> QuerySet[WebhookEndpoint]:
    """The workspace's endpoints, each with its newest delivery's status and time
    (`last_delivery_status`, `last_delivery_at`; None before the first)."""
    newest = WebhookDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-created_at", "-pk")
    return webhook_endpoint_list(access=access).annotate(
        last_delivery_status=Subquery(newest.values("status")[:1]),
        last_delivery_at=Subquery(newest.values("created_at")[:1]),
    )
