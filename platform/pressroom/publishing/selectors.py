"""Reads of webhook endpoints, scoped by the caller's Access."""
from __future__ import annotations

from django.db.models import QuerySet

from pressroom.accounts.access import Access
from pressroom.publishing.models import WebhookEndpoint


def webhook_endpoint_list(*, access: Access) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(workspace=access.workspace)
