"""The Webhooks page: workspace admins register endpoints, see their health (the circuit
breaker's pause and its reason), ping them, read their deliveries and resume paused ones.
Thin views: every write is one publishing service, which checks the access again."""
from __future__ import annotations

import functools
import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from pressroom.accounts.models import Scope
from pressroom.core.errors import NotAllowed, PressroomError
from pressroom.dashboard.access import workspace_view
from pressroom.dashboard.webhook_forms import WebhookCreateForm, WebhookEditForm
from pressroom.publishing.models import WebhookEndpoint
from pressroom.publishing.selectors import webhook_endpoint_list, webhook_endpoint_overview
from pressroom.publishing.services import (
    webhook_delivery_list,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_resume,
    webhook_endpoint_update,
    webhook_ping,
)

# The signing secret of an endpoint just created waits here for the one page that shows it
# (post/redirect/get: a reload neither creates a second endpoint nor shows the secret again).
NEW_SECRET_SESSION_KEY = "webhook_new_secret"
DELIVERIES_PER_PAGE = 20


def webhooks_view(view):
    """A workspace page for those who may manage webhooks (admins); a 403 for the rest."""

    @workspace_view()
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.access.can(Scope.WEBHOOKS_MANAGE):
            raise PermissionDenied(f"Managing webhooks needs the {Scope.WEBHOOKS_MANAGE} permission (workspace admins).")
        return view(request, *args, **kwargs)

    return wrapped


def _render(request, template: str, context: dict, status: int = 200):
    # The nav highlight, given here so the shared NAV_BY_VIEW map needs no entry per view.
    return render(request, f"dashboard/webhooks/{template}", {"nav": "webhooks", **context}, status=status)


def _index_url(request) -> str:
    return reverse("dashboard:webhooks", args=[request.access.workspace.slug])


def _endpoint(request, endpoint_id: int) -> WebhookEndpoint:
    """Only this workspace's endpoints: another's answers 404, like a missing one."""
    return get_object_or_404(webhook_endpoint_list(access=request.access), pk=endpoint_id)


def _apply_refusal(form, error: PressroomError) -> None:
    """A service's refusal, in its own words, on the field it names (or above the form)."""
    field_errors = getattr(error, "field_errors", None) or {}
    for field, texts in field_errors.items():
        for text in texts:
            form.add_error(field if field in form.fields else None, text)
    if not field_errors:
        form.add_error(None, error.message)


def _save(form, call):
    """Run one write; a refusal lands on the form and None comes back."""
    try:
        return call()
    except NotAllowed as error:
        raise PermissionDenied(error.message) from None
    except PressroomError as error:
        _apply_refusal(form, error)
        return None


def _run(request, call, done) -> None:
    """Run one service; `done(result)` words the success, a refusal becomes an error message."""
    try:
        result = call()
    except NotAllowed as error:
        raise PermissionDenied(error.message) from None
    except PressroomError as error:
        messages.error(request, error.message)
        return
    messages.success(request, done(result))


def _take_new_secret(request, endpoints: list[WebhookEndpoint]) -> dict | None:
    shown = request.session.pop(NEW_SECRET_SESSION_KEY, None)
    if not shown:
        return None
    endpoint = next((e for e in endpoints if e.pk == shown.get("endpoint")), None)
    return {"endpoint": endpoint, "secret": shown["secret"]} if endpoint else None


@webhooks_view
def webhook_index(request):
    form = WebhookCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        endpoint = _save(form, lambda: webhook_endpoint_create(access=request.access, **form.cleaned_data))
        if endpoint is not None:
            request.session[NEW_SECRET_SESSION_KEY] = {"endpoint": endpoint.pk, "secret": endpoint.secret}
            messages.success(request, f"Webhook for {endpoint.url} created.")
            return redirect(_index_url(request))
    endpoints = list(webhook_endpoint_overview(access=request.access))
    context = {"form": form, "endpoints": endpoints, "new_secret": _take_new_secret(request, endpoints)}
    return _render(request, "index.html", context, status=400 if form.is_bound else 200)


@webhooks_view
def webhook_edit(request, endpoint_id: int):
    endpoint = _endpoint(request, endpoint_id)
    initial = {"events": endpoint.events, "active": endpoint.active, "description": endpoint.description}
    form = WebhookEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = _save(form, lambda: webhook_endpoint_update(endpoint=endpoint, access=request.access, **form.cleaned_data))
        if saved is not None:
            messages.success(request, f"Webhook for {saved.url} saved.")
            return redirect(_index_url(request))
    return _render(request, "edit.html", {"endpoint": endpoint, "form": form}, status=400 if form.is_bound else 200)


@webhooks_view
def webhook_delete(request, endpoint_id: int):
    """GET asks for confirmation; POST deletes (with the endpoint's delivery history)."""
    endpoint = _endpoint(request, endpoint_id)
    if request.method == "POST":
        _run(request, lambda: webhook_endpoint_delete(endpoint=endpoint, access=request.access),
             lambda _: f"Webhook for {endpoint.url} deleted.")
        return redirect(_index_url(request))
    return _render(request, "delete.html", {"endpoint": endpoint, "deliveries": endpoint.deliveries.count()})


@webhooks_view
@require_POST
def webhook_ping_view(request, endpoint_id: int):
    endpoint = _endpoint(request, endpoint_id)

    def done(delivery) -> str:
        if endpoint.is_paused:
            return f"Ping queued (delivery {delivery.pk}); the endpoint is paused, so it waits until you resume it."
        return f"Ping sent (delivery {delivery.pk}); its result shows under Deliveries."

    _run(request, lambda: webhook_ping(endpoint=endpoint, access=request.access), done)
    return redirect(_index_url(request))


@webhooks_view
@require_POST
def webhook_resume_view(request, endpoint_id: int):
    endpoint = _endpoint(request, endpoint_id)

    def done(sent: int) -> str:
        waited = f"{sent} waiting deliver{'y' if sent == 1 else 'ies'} sent" if sent else "nothing was waiting"
        return f"Webhook for {endpoint.url} resumed: {waited}."

    _run(request, lambda: webhook_endpoint_resume(endpoint=endpoint, access=request.access), done)
    return redirect(_index_url(request))


def _delivery_row(delivery) -> dict:
    return {"delivery": delivery, "attempts": list(delivery.attempt_log.all()),
            "payload": json.dumps(delivery.payload, indent=2, ensure_ascii=False, sort_keys=True)}


@webhooks_view
def webhook_deliveries(request, endpoint_id: int):
    """The endpoint's deliveries, newest first, a page at a time, each with its attempts."""
    endpoint = _endpoint(request, endpoint_id)
    page = Paginator(webhook_delivery_list(endpoint=endpoint), DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    return _render(request, "deliveries.html", {"endpoint": endpoint, "page": page, "rows": [_delivery_row(d) for d in page]})
