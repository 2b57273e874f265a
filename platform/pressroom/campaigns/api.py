"""REST API for campaigns (mounted under /api/v1/campaigns/). Thin: parse, call one
service or selector, render."""
from __future__ import annotations

import tempfile

from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from pressroom.accounts.models import Scope
from pressroom.api.serializers import ArtifactSerializer
from pressroom.api.views import READ_CONTENT, NewestFirst
from pressroom.campaigns.models import Campaign, CampaignSource
from pressroom.campaigns.rows import decode_upload, rows_from_text, upload_format
from pressroom.campaigns.selectors import (
    EXPORT_FORMATS, campaign_list, campaign_progress, campaign_results, export_csv, export_file_name, export_jsonl,
    export_zip,
)
from pressroom.campaigns.services import campaign_artifacts_approve, campaign_cancel, campaign_create
from pressroom.jobs.models import JobStatus
from pressroom.jobs.validation import use_case_get
from pressroom.usage.api import QUOTA_EXCEEDED_RESPONSE

class CampaignSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = ("id", "name", "use_case", "priority", "source", "origin", "total_jobs", "created_at", "finished_at",
                  "progress")

    def get_progress(self, campaign) -> dict:
        return campaign_progress(campaign).as_dict()


class CampaignCreateSerializer(serializers.Serializer):
    use_case = serializers.CharField(max_length=100, help_text="A use-case key from /api/v1/use-cases/.")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    priority = serializers.IntegerField(min_value=0, max_value=9, required=False)
    rows = serializers.JSONField(required=False, help_text="A list of inputs, one per job (or upload `file`).")
    file = serializers.FileField(required=False, help_text="CSV (header: input field names) or JSON Lines.")
    format = serializers.ChoiceField(choices=("csv", "jsonl"), required=False,
                                     help_text="The file's format, when its name does not say (.csv, .jsonl).")

    def validate(self, data):
        if ("rows" in data) == ("file" in data):
            raise ValidationError({"rows": ["Give either rows (JSON) or a file (CSV or JSON Lines), not both or neither."]})
        return data


class ResultSerializer(serializers.Serializer):
    row = serializers.IntegerField(source="campaign_row")
    job = serializers.UUIDField(source="pk")
    status = serializers.CharField()
    error_message = serializers.CharField()
    input = serializers.JSONField()
    artifacts = serializers.SerializerMethodField()

    def get_artifacts(self, job) -> list[dict]:
        return ArtifactSerializer(job.artifacts.all(), many=True, context=self.context).data


class BulkApproveSerializer(serializers.Serializer):
    artifact_ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=10_000,
                                         help_text="Approve these; leave out to approve every result that passed.")
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ByRow(CursorPagination):
    ordering = ("campaign_row",)
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


class CampaignViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Campaigns: one upload or request, one job per row."""

    serializer_class = CampaignSerializer
    pagination_class = NewestFirst
    parser_classes = (JSONParser, MultiPartParser, FormParser)
    scopes_by_action = {"list": READ_CONTENT, "retrieve": READ_CONTENT, "results": READ_CONTENT, "export": READ_CONTENT,
                        "create": (Scope.JOBS_WRITE,), "cancel": (Scope.JOBS_WRITE,), "approve": (Scope.CONTENT_REVIEW,)}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Campaign.objects.none()
        return campaign_list(access=self.request.access)

    @extend_schema(request={"application/json": CampaignCreateSerializer, "multipart/form-data": CampaignCreateSerializer},
                   responses={201: CampaignSerializer, 429: QUOTA_EXCEEDED_RESPONSE},
                   summary="Create a campaign: every row valid, or nothing is created (400 with a per-row report)")
    def create(self, request):
        body = CampaignCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        rows = data.get("rows")
        origin, source = {}, CampaignSource.API
        if "file" in data:
            upload = data["file"]
            fmt = upload_format(upload.name, data.get("format"))
            rows = rows_from_text(decode_upload(upload.read()), fmt, use_case_get(data["use_case"]))
            origin, source = {"file": upload.name[:200], "format": fmt}, CampaignSource.UPLOAD
        campaign = campaign_create(access=request.access, use_case_key=data["use_case"], rows=rows, name=data["name"],
                                   priority=data.get("priority"), source=source, origin=origin)
        return Response(CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[OpenApiParameter("status", str, enum=JobStatus.values)],
                   responses={200: ResultSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def results(self, request, pk=None):
        """Each row's job and its current results, in row order, a cursor page at a time."""
        job_status = request.query_params.get("status")
        if job_status is not None and job_status not in JobStatus.values:
            raise ValidationError({"status": [f"One of: {', '.join(JobStatus.values)}."]})
        jobs = campaign_results(self.get_object(), status=job_status)
        paginator = ByRow()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response(ResultSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(parameters=[OpenApiParameter("format", str, enum=list(EXPORT_FORMATS))],
                   responses={(200, "text/csv"): OpenApiTypes.STR, (200, "application/x-ndjson"): OpenApiTypes.STR,
                              (200, "application/zip"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        """Texts with their provenance (CSV or JSON Lines), or the images as a ZIP with a manifest."""
        return campaign_export_response(self.get_object(), request.query_params.get("format", "csv"))

    @extend_schema(request=BulkApproveSerializer, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        body = BulkApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ids = body.validated_data.get("artifact_ids")
        approved = campaign_artifacts_approve(campaign=self.get_object(), access=request.access, artifact_ids=ids,
                                              comment=body.validated_data["comment"])
        return Response({"approved": approved})

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return Response(campaign_cancel(campaign=self.get_object(), access=request.access))


def campaign_export_response(campaign: Campaign, fmt: str):
    """One export for the API and the dashboard."""
    if fmt not in EXPORT_FORMATS:
        raise ValidationError({"format": [f"One of: {', '.join(EXPORT_FORMATS)}."]})
    name = export_file_name(campaign, fmt)
    if fmt == "zip":
        spool = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)
        export_zip(campaign, spool)
        spool.seek(0)
        return FileResponse(spool, as_attachment=True, filename=name, content_type="application/zip")
    content = export_csv(campaign) if fmt == "csv" else export_jsonl(campaign)
    response = StreamingHttpResponse(content, content_type="text/csv" if fmt == "csv" else "application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
