"""One JSON error shape for every failure:

    {"error": {"code": "invalid", "message": "...", "fields": {"prompt": ["..."]}}}
"""
from __future__ import annotations

import math

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, JsonResponse
from django.utils import timezone
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from pressroom.core.errors import (
    IdempotencyConflict,
    InputInvalid,
    InvalidTransition,
    NotAllowed,
    NotFound,
    PressroomError,
    QuotaExceeded,
)

DOMAIN_STATUS = (
    (InputInvalid, status.HTTP_400_BAD_REQUEST),
    (InvalidTransition, status.HTTP_409_CONFLICT),
    (IdempotencyConflict, status.HTTP_409_CONFLICT),
    (NotAllowed, status.HTTP_403_FORBIDDEN),
    (NotFound, status.HTTP_404_NOT_FOUND),
)
DRF_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.Throttled: "throttled",
    exceptions.NotAcceptable: "not_acceptable",
}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    body = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(detail, list) and detail and all(isinstance(d, (str, exceptions.ErrorDetail)) for d in detail):
        return {prefix or "non_field_errors": [str(d) for d in detail]}
    if isinstance(detail, list):
        out = {}
        for index, value in enumerate(detail):
            out.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def quota_exceeded_response(exc: QuotaExceeded) -> Response:
    """429 with which limit refused the request and when it resets (also as Retry-After)."""
    body = error_body(exc.code, exc.message)
    body["error"].update(metric=exc.metric, period=exc.period, limit=exc.limit, usage=exc.usage,
                         resets_at=exc.resets_at.isoformat().replace("+00:00", "Z"))
    wait = max(1, math.ceil((exc.resets_at - timezone.now()).total_seconds()))
    return Response(body, status=status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": str(wait)})


def api_exception_handler(exc, context):
    if isinstance(exc, QuotaExceeded):
        return quota_exceeded_response(exc)
    for error_type, code in DOMAIN_STATUS:
        if isinstance(exc, error_type):
            fields = getattr(exc, "field_errors", None)
            body = error_body(exc.code, exc.message, fields)
            if getattr(exc, "row_errors", None):  # a campaign's per-row validation report
                from pressroom.conf import pressroom_settings

                shown = exc.row_errors[: pressroom_settings.CAMPAIGN_MAX_REPORTED_ERRORS]
                body["error"]["rows"] = [error.as_dict() for error in shown]
                body["error"]["rows_total"] = len(exc.row_errors)
            return Response(body, status=code)
    if isinstance(exc, (Http404, ObjectDoesNotExist)):
        exc = exceptions.NotFound()
    response = exception_handler(exc, context)
    if response is None:
        if isinstance(exc, PressroomError):
            return Response(error_body(exc.code, exc.message), status=status.HTTP_400_BAD_REQUEST)
        return None  # a real bug: let Django log it
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body("invalid", "The request is invalid.", _flatten(exc.detail))
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        response.data = error_body(DRF_CODES.get(type(exc), getattr(exc, "default_code", "error")), str(detail))
    return response


class BodySizeLimitMiddleware:
    """Refuse API bodies over the limit with 413 before anything reads them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from pressroom.conf import pressroom_settings

        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = (pressroom_settings.CAMPAIGN_MAX_UPLOAD_BYTES if request.path.startswith("/api/v1/campaigns/")
                     else pressroom_settings.API_MAX_BODY_BYTES)
            if length > limit:
                body = error_body("request_too_large", f"Request body of {length} bytes is over the limit of {limit}.")
                return JsonResponse(body, status=413)
        return self.get_response(request)


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def json_404(request, exception=None):
    """JSON under /api/, the dashboard's page elsewhere."""
    if not _wants_json(request):
        return defaults.page_not_found(request, exception)
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def json_500(request):
    if not _wants_json(request):
        return defaults.server_error(request)
    return JsonResponse(error_body("server_error", "Internal error; it has been logged."), status=500)

