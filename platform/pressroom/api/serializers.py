from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from pressroom.audit.models import AuditEvent
from pressroom.jobs.media import SIGNABLE_STATUSES, artifact_signed_url
from pressroom.jobs.models import Artifact, Job
from pressroom.jobs.selectors import job_queue_position, job_queue_position_at_creation
from pressroom.publishing.models import WEBHOOK_EVENTS, DeliveryAttempt, WebhookDelivery, WebhookEndpoint
from pressroom.safety.checks.base import worst_decision
from pressroom.safety.models import SafetyPolicy
from pressroom.safety.services import POLICY_FIELDS


class ArtifactSerializer(serializers.ModelSerializer):
    file_url = serializers.SerializerMethodField(help_text="The file, for this workspace's members and keys.")
    signed_file_url = serializers.SerializerMethodField(
        help_text="For approved and published images: the file through a signed link that needs no key and expires "
                  "(for a CMS to embed).")
    provenance = serializers.SerializerMethodField()
    safety = serializers.SerializerMethodField()

    class Meta:
        model = Artifact
        fields = ("id", "job", "kind", "variant_index", "revision", "revision_of", "status", "text", "data", "file_url", "signed_file_url",
                  "provenance", "safety", "review_comment", "reviewed_at", "publish_at", "published_at", "created_at")

    def get_file_url(self, artifact) -> str | None:
        if not artifact.file:
            return None
        return self._absolute(artifact.file_url)

    def get_signed_file_url(self, artifact) -> str | None:
        """Approved and published files only, and only for callers who may read content."""
        access = getattr(self.context.get("request"), "access", None)
        if not artifact.file or artifact.status not in SIGNABLE_STATUSES or access is None or not access.can("content:read"):
            return None
        return self._absolute(artifact_signed_url(artifact))

    def _absolute(self, url: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_provenance(self, artifact) -> dict:
        return {"model_alias": artifact.model_alias, "model_source": artifact.model_source,
                "model_revision": artifact.model_revision, "model_placeholder": artifact.model_placeholder,
                "seed": artifact.seed, "generation_params": artifact.generation_params}

    def get_safety(self, artifact) -> dict:
        return {"decision": artifact.safety_decision or None, "verdicts": [
            {"check": v.check_name, "decision": v.decision, "scores": v.scores, "thresholds": v.thresholds,
             "evidence": v.evidence, "scored_by": v.scored_by, "error": v.error,
             "reason": v.reason}
            for v in artifact.verdicts.all()
        ]}


class JobSerializer(serializers.ModelSerializer):
    artifacts = serializers.SerializerMethodField()
    queue_position = serializers.SerializerMethodField(
        help_text="1 for the next job to run; counted up to 100 (100 means 100 or more); null once it left the queue.")
    input_screening = serializers.SerializerMethodField(
        help_text="How the input was screened: the worst decision, and why (a flagged input's results always need a person).")

    class Meta:
        model = Job
        fields = ("id", "use_case", "status", "priority", "progress", "attempts", "error_message", "input",
                  "input_screening", "idempotency_key", "queue_position", "created_at", "started_at", "finished_at", "artifacts")

    def get_input_screening(self, job) -> dict:
        verdicts = list(job.input_verdicts.all())
        worst = worst_decision([v.decision for v in verdicts])
        reasons = [f"{v.check_name}: {e.get('reason', '')}" for v in verdicts if v.decision != "pass" for e in v.evidence
                   ] or [f"{v.check_name}: {v.error}" for v in verdicts if v.decision != "pass" and v.error]
        return {"decision": worst, "reasons": reasons}

    def get_artifacts(self, job) -> list[dict]:
        if not self.context.get("with_artifacts"):
            return []
        return ArtifactSerializer(job.artifacts.all(), many=True, context=self.context).data

    def get_queue_position(self, job) -> int | None:
        if self.context.get("just_created"):  # counted in the transaction that made it: not again
            counted = job_queue_position_at_creation(job)
            if counted is not None:
                return counted
        return job_queue_position(job)


class JobCreateSerializer(serializers.Serializer):
    use_case = serializers.CharField(max_length=100, help_text="A use-case key from /api/v1/use-cases/.")
    input = serializers.JSONField(help_text="An object valid against the use case's input_schema.")
    priority = serializers.IntegerField(min_value=0, max_value=9, default=5)


class ReviewSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RejectSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000)


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an offset or Z: a time without one would mean the server's zone."""

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            raise serializers.ValidationError("Give a time zone offset or Z, e.g. 2030-05-01T09:00:00+02:00.")
        return super().enforce_timezone(value)


class ScheduleSerializer(serializers.Serializer):
    publish_at = AwareDateTimeField(help_text="When to publish (ISO 8601 with an offset or Z); must be in the future.")


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ("sequence", "timestamp", "actor_type", "actor_id", "actor_label", "action", "object_type",
                  "object_id", "data", "previous_hash", "hash")


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=WEBHOOK_EVENTS), min_length=1)

    class Meta:
        model = WebhookEndpoint
        fields = ("id", "url", "events", "active", "description", "created_at", "paused_at", "pause_reason",
                  "consecutive_failures")
        read_only_fields = ("id", "created_at", "paused_at", "pause_reason", "consecutive_failures")


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    class Meta(WebhookEndpointSerializer.Meta):
        fields = (*WebhookEndpointSerializer.Meta.fields, "secret")


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ("number", "status_code", "duration_ms", "error", "at")


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempt_log = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ("id", "event", "status", "attempts", "payload", "created_at", "delivered_at", "attempt_log")


class SafetyPolicySerializer(serializers.ModelSerializer):
    """The workspace's screening rules. PATCH any subset; the model validates thresholds
    (0-1 per known category) and banned topics ({"topic", "examples", "action"})."""

    class Meta:
        model = SafetyPolicy
        fields = ("version", "updated_at", *POLICY_FIELDS)
        read_only_fields = ("version", "updated_at")
