"""Query filters of the API, as django-filter FilterSets (drf-spectacular documents them).
Form fields do the parsing: bad values, NUL characters and over-long text are a 400."""
from __future__ import annotations

from datetime import timezone as dt_timezone

import django_filters as filters

from pressroom.audit.models import AuditEvent
from pressroom.jobs.models import Artifact, ArtifactKind, ArtifactStatus, Job, JobStatus

TEXT_MAX = 200


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    """ISO 8601, normalised to UTC: the database refuses some valid offsets (e.g. +18:44)."""

    def filter(self, qs, value):
        if value is not None:
            value = value.astimezone(dt_timezone.utc) if value.tzinfo else value.replace(tzinfo=dt_timezone.utc)
        return super().filter(qs, value)


def _text(field_name: str, help_text: str) -> filters.CharFilter:
    return filters.CharFilter(field_name=field_name, max_length=TEXT_MAX, help_text=help_text)


class JobFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=JobStatus.choices)
    use_case = _text("use_case", "A use-case key.")
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Job
        fields = ()


class ArtifactFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ArtifactStatus.choices)
    job = filters.UUIDFilter(field_name="job_id")
    kind = filters.ChoiceFilter(choices=ArtifactKind.choices)

    class Meta:
        model = Artifact
        fields = ()


class AuditEventFilter(filters.FilterSet):
    since = UtcDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = UtcDateTimeFilter(field_name="timestamp", lookup_expr="lt")
    object_type = _text("object_type", "job, artifact, membership, …")
    object_id = _text("object_id", "The object's id.")
    actor_type = _text("actor_type", "user, api_key, worker, system or schedule.")
    actor_id = _text("actor_id", "The actor's id.")

    class Meta:
        model = AuditEvent
        fields = ()
