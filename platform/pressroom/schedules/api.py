"""REST API for recurring campaigns (mounted under /api/v1/campaign-schedules/). Thin:
parse, call one service or selector, render. Reading needs content:read (or jobs:write),
changing needs jobs:write."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from pressroom.accounts.models import Scope
from pressroom.schedules.models import CRON_FIELDS, CampaignSchedule
from pressroom.schedules.selectors import campaign_schedule_list
from pressroom.schedules.services import (
    CRON_DEFAULTS,
    campaign_schedule_create,
    campaign_schedule_delete,
    campaign_schedule_update,
)

READ_CONTENT = ((Scope.CONTENT_READ,), (Scope.JOBS_WRITE,))
CRON_HELP = {
    "minute": "0-59, e.g. 0, */15, 0,30.", "hour": "0-23, e.g. 9, 8-18.", "day_of_week": "0-6 (Sunday 0) or mon-sun, e.g. mon-fri.",
    "day_of_month": "1-31, e.g. 1,15.", "month_of_year": "1-12, e.g. */3.",
}


class CampaignScheduleSerializer(serializers.ModelSerializer):
    time_zone = serializers.CharField(source="workspace.time_zone", read_only=True,
                                      help_text="The workspace's time zone: the cron fields and placeholders read its clock.")
    cron = serializers.CharField(read_only=True, help_text="minute hour day-of-month month day-of-week, as crontab(5) writes it.")

    class Meta:
        model = CampaignSchedule
        fields = ("id", "name", "use_case", "input_rows", *CRON_FIELDS, "cron", "time_zone", "enabled", "created_at", "updated_at",
                  "last_run_at", "last_campaign", "last_error")
        read_only_fields = fields


class CampaignScheduleWriteSerializer(serializers.Serializer):
    """Shapes only; the service validates the cron fields (with django-celery-beat's own
    validators) and every template row (against the use case's input schema)."""

    name = serializers.CharField(max_length=200)
    use_case = serializers.CharField(max_length=100, help_text="A use-case key from /api/v1/use-cases/.")
    input_rows = serializers.JSONField(help_text="A list of inputs, one job each per run. Strings may contain {date}, "
                                                 "{weekday} and {month}, filled in at run time in the workspace's time zone.")
    minute = serializers.CharField(max_length=240, required=False, help_text=CRON_HELP["minute"])
    hour = serializers.CharField(max_length=96, required=False, help_text=CRON_HELP["hour"])
    day_of_week = serializers.CharField(max_length=64, required=False, help_text=CRON_HELP["day_of_week"])
    day_of_month = serializers.CharField(max_length=124, required=False, help_text=CRON_HELP["day_of_month"])
    month_of_year = serializers.CharField(max_length=64, required=False, help_text=CRON_HELP["month_of_year"])
    enabled = serializers.BooleanField(required=False, default=True)


class NewestFirst(CursorPagination):
    ordering = ("-created_at", "-pk")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class CampaignScheduleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = CampaignScheduleSerializer
    pagination_class = NewestFirst
    http_method_names = ["get", "post", "patch", "delete"]
    scopes_by_action = {"list": READ_CONTENT, "retrieve": READ_CONTENT, "create": (Scope.JOBS_WRITE,),
                        "partial_update": (Scope.JOBS_WRITE,), "destroy": (Scope.JOBS_WRITE,)}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CampaignSchedule.objects.none()
        return campaign_schedule_list(access=self.request.access)

    @extend_schema(request=CampaignScheduleWriteSerializer, responses={201: CampaignScheduleSerializer})
    def create(self, request):
        """A recurring campaign: on its cron (default 0 9 * * *, 09:00 every day) it creates a campaign of its rows."""
        body = CampaignScheduleWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        schedule = campaign_schedule_create(access=request.access, **{**CRON_DEFAULTS, **body.validated_data})
        return Response(CampaignScheduleSerializer(schedule).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CampaignScheduleWriteSerializer(partial=True), responses={200: CampaignScheduleSerializer})
    def partial_update(self, request, pk=None):
        body = CampaignScheduleWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        schedule = campaign_schedule_update(schedule=self.get_object(), access=request.access, **body.validated_data)
        return Response(CampaignScheduleSerializer(schedule).data)

    def destroy(self, request, pk=None):
        campaign_schedule_delete(schedule=self.get_object(), access=request.access)
        return Response(status=status.HTTP_204_NO_CONTENT)
