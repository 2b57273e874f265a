"""REST API v1. Views are thin: parse, call one service, render. Every queryset is
scoped to the caller's workspace, so another workspace's objects are simply not found."""
from __future__ import annotations

import base64
import binascii
import io

from django.apps import apps
from django.http import StreamingHttpResponse
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
from pressroom.api.filters import ArtifactFilter, AuditEventFilter, JobFilter
from pressroom.audit.checkpoints import audit_checkpoints_write
from pressroom.audit.export import audit_event_list, iter_jsonl, write_csv
from pressroom.audit.models import AuditEvent
from pressroom.core.queries import related_objects_known
from pressroom.jobs.models import Artifact, Job
from pressroom.jobs.selectors import artifact_list, job_list
from pressroom.jobs.services import (
    artifact_approve,
    artifact_publish,
    artifact_reject,
    artifact_schedule_cancel,
    artifact_schedule_publish,
    job_cancel,
    job_create,
)
from pressroom.plugins import PluginConfig, use_case_registry
from pressroom.plugins.selectors import use_cases_offered
from pressroom.publishing import services as publishing
from pressroom.publishing.models import WebhookEndpoint
from pressroom.publishing.selectors import webhook_endpoint_list
from pressroom.safety.services import POLICY_FIELDS, safety_policy_get, safety_policy_update
from pressroom.usage.api import QUOTA_EXCEEDED_RESPONSE

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


def _offered(request) -> list:
    """The use cases of the caller's workspace (all installed ones for a caller with none)."""
    access = getattr(request, "access", None)
    return use_cases_offered(workspace=access.workspace) if access else use_case_registry.all()


class PluginListView(APIView):
    required_scopes = ()

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="Installed plugins and their use cases")
    def get(self, request):
        plugins: dict[str, dict] = {}
        for use_case in _offered(request):
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
        return Response({"use_cases": [_use_case_data(u) for u in _offered(request)]})

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, parameters=[OpenApiParameter("id", str, OpenApiParameter.PATH)])
    def retrieve(self, request, pk: str):
        use_case = next((u for u in _offered(request) if u.key == pk), None)
        if use_case is None:
            return Response({"error": {"code": "not_found", "message": f"No use case {pk!r}."}}, status=404)
        return Response(_use_case_data(use_case))


# -- jobs ------------------------------------------------------------------------------
class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.JobSerializer
    pagination_class = NewestFirst
    filterset_class = JobFilter
    scopes_by_action = {"list": READ_CONTENT, "retrieve": READ_CONTENT, "create": (Scope.JOBS_WRITE,),
                        "cancel": (Scope.JOBS_WRITE,)}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Job.objects.none()
        return job_list(access=self.request.access).prefetch_related("input_verdicts")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "with_artifacts": self.action != "list"}

    @extend_schema(request=s.JobCreateSerializer, responses={201: s.JobSerializer, 200: s.JobSerializer,
                                                             429: QUOTA_EXCEEDED_RESPONSE},
                   parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER,
                                                description="Same key and body: the same job. Same key, other body: 409.")])
    def create(self, request):
        body = s.JobCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key")
        if key is not None and not (1 <= len(key) <= 255 and key.isprintable()):
            raise ValidationError({"Idempotency-Key": ["Between 1 and 255 printable characters."]})
        access = request.access
        replay = key is not None and job_list(access=access).filter(idempotency_key=key).exists()
        job = job_create(access=access, use_case_key=body.validated_data["use_case"], input=body.validated_data["input"],
                         priority=body.validated_data["priority"], idempotency_key=key)
        if not replay:  # made by this request: no artifact can exist yet, so none is looked up
            related_objects_known(job, "artifacts", [])
        context = {**self.get_serializer_context(), "with_artifacts": True, "just_created": not replay}
        data = s.JobSerializer(job, context=context).data
        return Response(data, status=status.HTTP_200_OK if replay else status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.JobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = job_cancel(job=self.get_object(), access=request.access)
        return Response(s.JobSerializer(job, context=self.get_serializer_context()).data)


# -- artifacts -------------------------------------------------------------------------
class ArtifactViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ArtifactSerializer
    pagination_class = NewestFirst
    filterset_class = ArtifactFilter
    scopes_by_action = {"list": READ_CONTENT, "retrieve": READ_CONTENT, "approve": (Scope.CONTENT_REVIEW,),
                        "reject": (Scope.CONTENT_REVIEW,), "publish": (Scope.CONTENT_PUBLISH,),
                        "schedule": (Scope.CONTENT_PUBLISH,), "unschedule": (Scope.CONTENT_PUBLISH,)}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Artifact.objects.none()
        return artifact_list(access=self.request.access).prefetch_related("verdicts")

    def _render(self, artifact):
        return Response(s.ArtifactSerializer(artifact, context=self.get_serializer_context()).data)

    @extend_schema(request=s.ReviewSerializer, responses={200: s.ArtifactSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        body = s.ReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._render(artifact_approve(artifact=self.get_object(), access=request.access, comment=body.validated_data["comment"]))

    @extend_schema(request=s.RejectSerializer, responses={200: s.ArtifactSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        body = s.RejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._render(artifact_reject(artifact=self.get_object(), access=request.access, comment=body.validated_data["comment"]))

    @extend_schema(request=None, responses={200: s.ArtifactSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        return self._render(artifact_publish(artifact=self.get_object(), access=request.access))

    @extend_schema(request=s.ScheduleSerializer, responses={200: s.ArtifactSerializer})
    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        """Publish an approved artifact at a time: it waits in `scheduled` (again to move the time)."""
        body = s.ScheduleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._render(artifact_schedule_publish(artifact=self.get_object(), access=request.access,
                                                      publish_at=body.validated_data["publish_at"]))

    @extend_schema(request=None, responses={200: s.ArtifactSerializer})
    @action(detail=True, methods=["post"])
    def unschedule(self, request, pk=None):
        """Cancel a scheduled publication: the artifact is approved again."""
        return self._render(artifact_schedule_cancel(artifact=self.get_object(), access=request.access))


# -- audit -----------------------------------------------------------------------------
class AuditEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.AuditEventSerializer
    pagination_class = AuditOrder
    required_scopes = (Scope.AUDIT_READ,)
    filterset_class = AuditEventFilter
    queryset = AuditEvent.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        return audit_event_list(workspace_id=self.request.access.workspace.pk)

    @extend_schema(parameters=[OpenApiParameter("format", str, enum=["jsonl", "csv"])],
                   responses={(200, "application/x-ndjson"): OpenApiTypes.STR, (200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["get"])
    def export(self, request):
        fmt = _choice_param(request, "format", ["jsonl", "csv"]) or "jsonl"
        audit_checkpoints_write(workspace_id=request.access.workspace.pk)  # every export is anchored
        events = self.filter_queryset(self.get_queryset())
        if fmt == "csv":
            buffer = io.StringIO()
            write_csv(events, buffer)
            response = StreamingHttpResponse(iter([buffer.getvalue()]), content_type="text/csv")
        else:
            response = StreamingHttpResponse(iter_jsonl(events), content_type="application/x-ndjson")
        response["Content-Disposition"] = f'attachment; filename="audit-{request.access.workspace.slug}.{fmt}"'
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
        return webhook_endpoint_list(access=self.request.access)

    @extend_schema(responses={201: s.WebhookEndpointCreatedSerializer})
    def create(self, request, *args, **kwargs):
        body = s.WebhookEndpointSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        endpoint = publishing.webhook_endpoint_create(access=request.access, **body.validated_data)
        return Response(s.WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        endpoint = self.get_object()
        body = s.WebhookEndpointSerializer(endpoint, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        endpoint = publishing.webhook_endpoint_update(endpoint=endpoint, access=request.access, **body.validated_data)
        return Response(s.WebhookEndpointSerializer(endpoint).data)

    def destroy(self, request, *args, **kwargs):
        publishing.webhook_endpoint_delete(endpoint=self.get_object(), access=request.access)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={202: s.WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def ping(self, request, pk=None):
        delivery = publishing.webhook_ping(endpoint=self.get_object(), access=request.access)
        return Response(s.WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Resume an endpoint the circuit breaker paused; the deliveries that waited are sent, oldest first."""
        sent = publishing.webhook_endpoint_resume(endpoint=self.get_object(), access=request.access)
        return Response({"resumed": True, "waiting_deliveries_sent": sent})

    @extend_schema(responses={200: s.WebhookDeliverySerializer(many=True)}, filters=False)
    @action(detail=True, methods=["get"], serializer_class=s.WebhookDeliverySerializer)
    def deliveries(self, request, pk=None):
        """The endpoint's deliveries, newest first, a cursor page at a time."""
        deliveries = publishing.webhook_delivery_list(endpoint=self.get_object())
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(s.WebhookDeliverySerializer(page, many=True).data)


# -- the safety policy -----------------------------------------------------------------
class SafetyPolicyView(APIView):
    """The workspace's safety policy: read it with content:read, change it with
    policy:manage (each change raises `version` and is audited with before and after)."""

    scopes_by_action = {"get": (Scope.CONTENT_READ,), "patch": (Scope.POLICY_MANAGE,)}

    @extend_schema(responses={200: s.SafetyPolicySerializer}, summary="The workspace's safety policy")
    def get(self, request):
        return Response(s.SafetyPolicySerializer(safety_policy_get(workspace=request.access.workspace)).data)

    @extend_schema(request=s.SafetyPolicySerializer, responses={200: s.SafetyPolicySerializer},
                   summary="Change the safety policy (any subset of its fields)")
    def patch(self, request):
        policy = safety_policy_get(workspace=request.access.workspace)
        body = s.SafetyPolicySerializer(policy, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        unknown = sorted(set(request.data) - set(POLICY_FIELDS)) if isinstance(request.data, dict) else []
        if unknown:
            raise ValidationError({name: ["Not a safety policy setting (read-only or unknown)."] for name in unknown})
        policy = safety_policy_update(access=request.access, **body.validated_data)
        return Response(s.SafetyPolicySerializer(policy).data)


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
        items = publishing.feed_page(access=request.access, after=after, limit=limit)
        context = {"request": request}
        return Response({
            "items": [{"position": item.position, "published_at": item.published_at,
                       "artifact": s.ArtifactSerializer(item.artifact, context=context).data} for item in items],
            "next_cursor": encode_cursor(items[-1].position if items else after),
        })
