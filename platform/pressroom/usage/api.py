"""GET /api/v1/usage/: the workspace's ledger per day and per use case, with totals and
its limits. The dashboard's Usage page reads the same selector."""
from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from pressroom.accounts.models import Scope
from pressroom.usage.models import Metric, Period
from pressroom.usage.selectors import UsageReport, usage_report

MAX_DAYS = 366


class UsageQuerySerializer(serializers.Serializer):
    """`from` and `to` are Python keywords, so the fields are declared in get_fields."""

    def get_fields(self):
        return {name: serializers.DateField(required=False, input_formats=["%Y-%m-%d"]) for name in ("from", "to")}

    def validate(self, attrs):
        today = timezone.now().date()
        end = attrs.get("to") or today
        start = attrs.get("from") or end.replace(day=1)
        if start > end:
            raise ValidationError({"from": ["Must be on or before `to`."]})
        if (end - start).days + 1 > MAX_DAYS:
            raise ValidationError({"to": [f"At most {MAX_DAYS} days after `from`."]})
        return {"start": start, "end": end}


class UsageTotalsSerializer(serializers.Serializer):
    jobs = serializers.IntegerField(help_text="Job runs that ended (succeeded, failed or cancelled while running).")
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    tokens = serializers.IntegerField(help_text="input_tokens + output_tokens")
    images = serializers.IntegerField()
    steps = serializers.IntegerField(help_text="Denoising steps, summed over images.")
    model_seconds = serializers.FloatField(help_text="Each batched model call's wall time, shared over its items.")


class UsageDaySerializer(UsageTotalsSerializer):
    date = serializers.DateField()
    use_cases = serializers.DictField(child=UsageTotalsSerializer(), help_text="The day's totals by use case.")


class UsageUseCaseSerializer(UsageTotalsSerializer):
    use_case = serializers.CharField()


class UsageLimitSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=Metric.values)
    period = serializers.ChoiceField(choices=Period.values, help_text="UTC day or UTC month.")
    limit = serializers.IntegerField(allow_null=True, help_text="null: unlimited.")
    usage = serializers.FloatField(help_text="As the quota counts it: jobs created (queued too), or consumed.")
    resets_at = serializers.DateTimeField(help_text="UTC start of the next day or month.")


class UsageReportSerializer(serializers.Serializer):
    def get_fields(self):
        return {
            "from": serializers.DateField(), "to": serializers.DateField(),
            "totals": UsageTotalsSerializer(), "days": UsageDaySerializer(many=True),
            "use_cases": UsageUseCaseSerializer(many=True), "limits": UsageLimitSerializer(many=True),
        }


def usage_report_data(report: UsageReport) -> dict:
    return UsageReportSerializer({
        "from": report.start, "to": report.end, "totals": report.totals,
        "days": [{"date": day, **totals, "use_cases": use_cases} for day, totals, use_cases in report.days],
        "use_cases": [{"use_case": key, **totals} for key, totals in report.use_cases],
        "limits": report.limits,
    }).data


class UsageView(APIView):
    """The workspace's usage ledger per UTC day and per use case, totals, and its quota limits
    with the usage they count and when they reset. Readable with content:read."""

    required_scopes = (Scope.CONTENT_READ,)

    @extend_schema(
        summary="Usage per day and per use case, with totals and quota limits",
        parameters=[
            OpenApiParameter("from", str, description="First UTC day, YYYY-MM-DD (default: the 1st of `to`'s month)."),
            OpenApiParameter("to", str, description=f"Last UTC day, YYYY-MM-DD (default: today); at most {MAX_DAYS} days."),
        ],
        responses={200: UsageReportSerializer},
    )
    def get(self, request):
        query = UsageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        report = usage_report(access=request.access, **query.validated_data)
        return Response(usage_report_data(report))


class QuotaErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(default="quota_exceeded")
    message = serializers.CharField()
    metric = serializers.ChoiceField(choices=Metric.values)
    period = serializers.ChoiceField(choices=Period.values)
    limit = serializers.IntegerField()
    usage = serializers.FloatField()
    resets_at = serializers.DateTimeField(help_text="UTC start of the next day or month; also the Retry-After header.")


class QuotaErrorSerializer(serializers.Serializer):
    error = QuotaErrorDetailSerializer()


QUOTA_EXCEEDED_RESPONSE = OpenApiResponse(
    QuotaErrorSerializer, description="A quota of the workspace refused it; nothing was created. Retry-After: seconds "
                                      "until the limit resets.")
