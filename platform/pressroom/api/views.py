"""REST API v1. Views are thin: parse, call one service, render. Every queryset is
scoped to the caller's workspace, so another workspace's objects are simply not found."""
from __future__ import annotations

import base64
import binascii
import io
import uuid
from datetime import timezone as dt_timezone

from django.apps import apps
from django.http import StreamingHttpResponse
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from pressroom.accounts.models import Scope
from pressroom.api import serializers as s
from pressroom.audit.export import audit_event_list, iter_jsonl, write_csv
from pressroom.audit.models import AuditEvent
from pressroom.jobs.models import Artifact, ArtifactStatus, Job, JobStatus
from pressroom.jobs.services import job_cancel, job_create
from pressroom.plugins import PluginConfig, use_case_registry
from pressroom.publishing import services as publishing
from pressroom.publishing.models import WebhookEndpoint
from pressroom.safety.services import Reviewer, artifact_approve, artifact_publish, artifact_reject

READ_CONTENT = ((Scope.CONTENT_READ,), (Scope.JOBS_WRITE,))


class NewestFirst(CursorPagination):
    ordering = ("-created_at", "-pk")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class AuditOrder(CursorPagination):
    ordering = ("sequence",)
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


def _datetime_param(request, name: str):
    value = request.query_params.get(name)
    if value is None:
        return None
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError
        # Normalise to UTC: the database refuses some valid ISO offsets (e.g. +18:44).
        return parsed.astimezone(dt_timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=dt_timezone.utc)
    except (ValueError, OverflowError):
        raise ValidationError({name: ["Use an ISO 8601 date-time, e.g. 2026-11-23T10:00:00Z."]}) from None


def _text_param(request, name: str, max_length: int = 200):
    """A free-text filter. PostgreSQL text cannot hold NUL, so such a value is a 400, not a 500."""
    value = request.query_params.get(name)
    if value is not None and ("\x00" in value or len(value) > max_length):
        raise ValidationError({name: [f"Text of at most {max_length} characters, without NUL characters."]})
    return value


def _uuid_param(request, name: str, label: str):
    value = request.query_params.get(name)
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationError({name: [f"Not {label}."]}) from None


def _choice_param(request, name: str, choices: list[str]):
    value = request.query_params.get(name)
    if value is not None and value not in choices:
        raise ValidationError({name: [f"One of: {', '.join(choices)}."]})
    return value


# -- plugins and use cases -----------------------------------------------------------
def _use_case_data(use_case) -> dict:
    return {"key": use_case.key, "title": use_case.title, "description": use_case.description, "plugin": use_case.plugin,
            "modality": use_case.modality, "output_kinds": list(use_case.output_kinds),
            "input_schema": use_case.input_json_schema()}


class PluginListView(APIView):
    required_scopes = ()

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="Installed plugins and their use cases")
    def get(self, request):
        plugins: dict[str, dict] = {}
        for use_case in use_case_registry.all():
            config = next((c for c in apps.get_app_configs() if c.label == use_case.plugin), None)
            entry = plugins.setdefault(use_case.plugin, {
                "name": use_case.plugin,
                "title": config.verbose_name if config else "Built-in",
                "version": config.version if isinstance(config, PluginConfig) else None,
                "description": config.description if isinstance(config, PluginConfig) else "Use cases that ship with Pressroom.",
                "use_cases": [],
            })
            entry["use_cases"].append(_use_case_data(use_case))
        return Response({"plugins": list(plugins.values())})


class UseCaseViewSet(viewsets.ViewSet):
    required_scopes = ()
    lookup_value_regex = r"[\w.\-]+"

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, operation_id="use_cases_list")
    def list(self, request):
        return Response({"use_cases": [_use_case_data(u) for u in use_case_registry.all()]})

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, parameters=[OpenApiParameter("id", str, OpenApiParameter.PATH)])
    def retrieve(self, request, pk: str):
        use_case = use_case_registry.get(pk)
        if use_case is None:
            return Response({"error": {"code": "not_found", "message": f"No use case {pk!r}."}}, status=404)
        return Response(_use_case_data(use_case))


# -- jobs ------------------------------------------------------------------------------
@extend_schema(parameters=[
    OpenApiParameter("status", str, enum=JobStatus.values), OpenApiParameter("use_case", str),
    OpenApiParameter("created_after", OpenApiTypes.DATETIME), OpenApiParameter("created_before", OpenApiTypes.DATETIME),
])
class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.JobSerializer
    pagination_class = NewestFirst
    scopes_by_action = {"list": READ_CONTENT, "retrieve": READ_CONTENT, "create": (Scope.JOBS_WRITE,),
                        "cancel": (Scope.JOBS_WRITE,)}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Job.objects.none()
        jobs = Job.objects.filter(workspace=self.request.caller.workspace)
        if self.action != "list":
            return jobs
        filters = {"status": _choice_param(self.request, "status", JobStatus.values),
                   "use_case": _text_param(self.request, "use_case"),
                   "created_at__gte": _datetime_param(self.request, "created_after"),
                   "created_at__lt": _datetime_param(self.request, "created_before")}
        return jobs.filter(**{k: v for k, v in filters.items() if v is not None})

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "with_artifacts": self.action != "list"}

    @extend_schema(request=s.JobCreateSerializer, responses={201: s.JobSerializer, 200: s.JobSerializer},
                   parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER,
                                                description="Same key and body: the same job. Same key, other body: 409.")])
    def create(self, request):
        body = s.JobCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key")
        if key is not None and not 1 <= len(key) <= 255:
            raise ValidationError({"Idempotency-Key": ["Between 1 and 255 characters."]})
        caller = request.caller
        replay = key is not None and Job.objects.filter(workspace=caller.workspace, idempotency_key=key).exists()
        job = job_create(workspace=caller.workspace, use_case_key=body.validated_data["use_case"],
                         input=body.validated_data["input"], priority=body.validated_data["priority"],
                         idempotency_key=key, created_by=caller.user, actor=caller.actor)
        data = s.JobSerializer(job, context={**self.get_serializer_context(), "with_artifacts": True}).data
        return Response(data, status=status.HTTP_200_OK if replay else status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.JobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = job_cancel(job=self.get_object(), actor=request.caller.actor)
        return Response(s.JobSerializer(job, context=self.get_serializer_context()).data)


# -- artifacts -------------------------------------------------------------------------
@extend_schema(parameters=[OpenApiParameter("status", str, enum=ArtifactStatus.values), OpenApiParameter("job", OpenApiTypes.UUID),
                           OpenApiParameter("kind", str, enum=["text", "image"])])
class ArtifactViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ArtifactSerializer
    pagination_class = NewestFirst
    scopes_by_action = {"list": READ_CONTENT, "retrieve": READ_CONTENT, "approve": (Scope.CONTENT_REVIEW,),
                        "reject": (Scope.CONTENT_REVIEW,), "publish": (Scope.CONTENT_PUBLISH,)}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Artifact.objects.none()
        artifacts = Artifact.objects.filter(workspace=self.request.caller.workspace).prefetch_related("verdicts")
        if self.action != "list":
            return artifacts
        filters = {"status": _choice_param(self.request, "status", ArtifactStatus.values),
                   "job_id": _uuid_param(self.request, "job", "a job id"),
                   "kind": _choice_param(self.request, "kind", ["text", "image"])}
        return artifacts.filter(**{k: v for k, v in filters.items() if v is not None})

    def _reviewer(self) -> Reviewer:
        caller = self.request.caller
        return Reviewer(user=caller.user, api_key=caller.api_key)

    def _render(self, artifact):
        return Response(s.ArtifactSerializer(artifact, context=self.get_serializer_context()).data)

    @extend_schema(request=s.ReviewSerializer, responses={200: s.ArtifactSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        body = s.ReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._render(artifact_approve(artifact=self.get_object(), reviewer=self._reviewer(), comment=body.validated_data["comment"]))

    @extend_schema(request=s.RejectSerializer, responses={200: s.ArtifactSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        body = s.RejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._render(artifact_reject(artifact=self.get_object(), reviewer=self._reviewer(), comment=body.validated_data["comment"]))

    @extend_schema(request=None, responses={200: s.ArtifactSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        return self._render(artifact_publish(artifact=self.get_object(), actor=request.caller.actor))


# -- audit -----------------------------------------------------------------------------
AUDIT_FILTERS = [OpenApiParameter("since", OpenApiTypes.DATETIME), OpenApiParameter("until", OpenApiTypes.DATETIME),
                 OpenApiParameter("object_type", str), OpenApiParameter("object_id", str),
                 OpenApiParameter("actor_type", str), OpenApiParameter("actor_id", str)]


class AuditEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.AuditEventSerializer
    pagination_class = AuditOrder
    required_scopes = (Scope.AUDIT_READ,)
    queryset = AuditEvent.objects.none()

    def _events(self):
        text = {name: _text_param(self.request, name) for name in ("object_type", "object_id", "actor_type", "actor_id")}
        return audit_event_list(
            workspace_id=self.request.caller.workspace.pk, since=_datetime_param(self.request, "since"),
            until=_datetime_param(self.request, "until"), **text,
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        return self._events()

    @extend_schema(parameters=AUDIT_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[*AUDIT_FILTERS, OpenApiParameter("format", str, enum=["jsonl", "csv"])],
                   responses={(200, "application/x-ndjson"): OpenApiTypes.STR, (200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["get"])
    def export(self, request):
        fmt = _choice_param(request, "format", ["jsonl", "csv"]) or "jsonl"
        events = self._events()
        if fmt == "csv":
            buffer = io.StringIO()
            write_csv(events, buffer)
            response = StreamingHttpResponse(iter([buffer.getvalue()]), content_type="text/csv")
        else:
            response = StreamingHttpResponse(iter_jsonl(events), content_type="application/x-ndjson")
        response["Content-Disposition"] = f'attachment; filename="audit-{request.caller.workspace.slug}.{fmt}"'
        return response


# -- webhooks --------------------------------------------------------------------------
class WebhookViewSet(viewsets.ModelViewSet):
    serializer_class = s.WebhookEndpointSerializer
    required_scopes = (Scope.WEBHOOKS_MANAGE,)
    pagination_class = NewestFirst
    http_method_names = ["get", "post", "patch", "delete"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookEndpoint.objects.none()
        return WebhookEndpoint.objects.filter(workspace=self.request.caller.workspace)

    @extend_schema(responses={201: s.WebhookEndpointCreatedSerializer})
    def create(self, request, *args, **kwargs):
        body = s.WebhookEndpointSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        endpoint = publishing.webhook_endpoint_create(workspace=request.caller.workspace, actor=request.caller.actor,
                                                      **body.validated_data)
        return Response(s.WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        body = s.WebhookEndpointSerializer(self.get_object(), data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        endpoint = publishing.webhook_endpoint_update(endpoint=self.get_object(), actor=request.caller.actor, **body.validated_data)
        return Response(s.WebhookEndpointSerializer(endpoint).data)

    def destroy(self, request, *args, **kwargs):
        publishing.webhook_endpoint_delete(endpoint=self.get_object(), actor=request.caller.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={202: s.WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def ping(self, request, pk=None):
        delivery = publishing.webhook_ping(endpoint=self.get_object())
        return Response(s.WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: s.WebhookDeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        deliveries = self.get_object().deliveries.prefetch_related("attempt_log").order_by("-created_at")[:100]
        return Response(s.WebhookDeliverySerializer(deliveries, many=True).data)


# -- the publication feed --------------------------------------------------------------
def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"p:{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        position = int(value)
        if kind != "p" or not 0 <= position < 2**63:
            raise ValueError
        return position
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationError({"cursor": ["Not a cursor this feed gave out."]}) from None


class PublishedFeedView(APIView):
    """Published artifacts in publication order. Poll with the `next_cursor` of the last
    page; no item is skipped or repeated, even while others publish concurrently."""

    required_scopes = (Scope.CONTENT_READ,)

    @extend_schema(parameters=[OpenApiParameter("cursor", str), OpenApiParameter("limit", int)], responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        after = decode_cursor(request.query_params.get("cursor"))
        try:
            limit = int(request.query_params.get("limit", 50))
        except ValueError:
            raise ValidationError({"limit": ["An integer from 1 to 500."]}) from None
        if not 1 <= limit <= 500:
            raise ValidationError({"limit": ["An integer from 1 to 500."]})
        items = publishing.feed_page(workspace=request.caller.workspace, after=after, limit=limit)
        context = {"request": request}
        return Response({
            "items": [{"position": item.position, "published_at": item.published_at,
                       "artifact": s.ArtifactSerializer(item.artifact, context=context).data} for item in items],
            "next_cursor": encode_cursor(items[-1].position if items else after),
        })
