"""Reads of a workspace's API keys, scoped by the caller's Access."""
from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from pressroom.accounts.access import Access
from pressroom.accounts.models import ApiKey


def api_key_list(*, access: Access) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(workspace=access.workspace)


def api_key_get(*, access: Access, key_id: int) -> ApiKey:
    key = api_key_list(access=access).filter(pk=key_id).first()
    if key is None:
        raise Http404("No such key.")
    return key
