import uuid

from django.conf import settings
from django.db import models

from pressroom.accounts.models import Workspace


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED_JOB_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(models.Model):
    """One request for content: a use case, its validated input, and where it stands."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="jobs")
    use_case = models.CharField(max_length=100)
    modality = models.CharField(max_length=16)
    input = models.JSONField()
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    # 0 (background) .. 9 (most urgent).
    priority = models.PositiveSmallIntegerField(default=5)
    progress = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    request_fingerprint = models.CharField(max_length=64, blank=True)
    # Seeds of the job's variants derive from this, so a rerun reproduces them.
    base_seed = models.BigIntegerField()
    worker = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    # A running job's lease: its worker renews it; once it lapses the sweeper requeues the job.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # When a message for this job last reached the broker (None: never yet).
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # A campaign's jobs: one per row of its upload (1-based, as a spreadsheet counts).
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.PROTECT, related_name="jobs", db_index=False
    )
    campaign_row = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=("workspace", "status", "-created_at"), name="job_ws_status_created"),
            models.Index(fields=("status", "lease_expires_at"), name="job_status_lease"),
            models.Index(fields=("campaign", "status"), name="job_campaign_status"),
            # The queue in serving order, for a queued job's position (counted on every read).
            models.Index(fields=("modality", "-priority", "created_at"), name="job_queue_order",
                         condition=models.Q(status="queued")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=("workspace", "idempotency_key"),
                condition=models.Q(idempotency_key__isnull=False),
                name="job_unique_idempotency_key",
            ),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="job_progress_0_100"),
            models.CheckConstraint(condition=models.Q(priority__lte=9), name="job_priority_0_9"),
            models.CheckConstraint(condition=models.Q(status__in=JobStatus.values), name="job_status_valid"),
            models.UniqueConstraint(fields=("campaign", "campaign_row"), name="job_unique_campaign_row"),
        ]

    def __str__(self) -> str:
        return f"{self.use_case} job {self.id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_JOB_STATUSES


class JobDispatch(models.Model):
    """The transactional outbox: a message the broker owes a job, written in the same
    transaction as the job's change. It is sent after commit and deleted once the broker
    took it; the sweeper sends what is left (broker down or silent at the time)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="dispatches")
    available_at = models.DateTimeField(help_text="Not before (a retry's backoff).")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("available_at", "pk")
        indexes = [models.Index(fields=("available_at",), name="dispatch_available")]
        verbose_name, verbose_name_plural = "job dispatch", "job dispatches"

    def __str__(self) -> str:
        return f"dispatch of job {self.job_id}"


class ArtifactKind(models.TextChoices):
    TEXT = "text", "Text"
    IMAGE = "image", "Image"


class ArtifactStatus(models.TextChoices):
    SCREENING = "screening", "Screening"
    PASSED = "passed", "Passed"
    FLAGGED = "flagged", "Flagged"
    BLOCKED = "blocked", "Blocked"
    APPROVED = "approved", "Approved"
    # Approved, and waiting for its publish_at time (cancelling makes it approved again).
    SCHEDULED = "scheduled", "Scheduled"
    REJECTED = "rejected", "Rejected"
    PUBLISHED = "published", "Published"


def artifact_upload_to(instance: "Artifact", filename: str) -> str:
    return f"artifacts/{instance.workspace_id}/{instance.job_id}/{filename}"


class Artifact(models.Model):
    """One variant a job produced, with the provenance needed to explain and reproduce it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="artifacts")
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="artifacts")
    kind = models.CharField(max_length=8, choices=ArtifactKind.choices)
    variant_index = models.PositiveSmallIntegerField()
    text = models.TextField(blank=True)
    file = models.FileField(upload_to=artifact_upload_to, blank=True)
    # Structured output for machines (rankings, the fields of an ad), beside the text.
    data = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=ArtifactStatus.choices, default=ArtifactStatus.SCREENING)
    # An edit or a redaction makes a new revision of the same variant; the old one stays.
    revision = models.PositiveSmallIntegerField(default=1)
    revision_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="revisions")
    # Combined safety decision (pass, flag, block); empty while screening. Never changes once set.
    safety_decision = models.CharField(max_length=8, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="reviewed_artifacts"
    )
    reviewed_by_api_key = models.ForeignKey(
        "accounts.ApiKey", null=True, blank=True, on_delete=models.PROTECT, related_name="reviewed_artifacts",
        verbose_name="reviewed by API key"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # When a scheduled artifact publishes itself; kept on the published artifact it became.
    publish_at = models.DateTimeField(null=True, blank=True)
    # Provenance.
    model_alias = models.CharField(max_length=100)
    model_source = models.CharField(max_length=500, help_text="Resolved local path or hub id.")
    model_revision = models.CharField(max_length=200, help_text="Hub revision, or sha256 of the weights.")
    model_placeholder = models.BooleanField(default=False, help_text="Randomly initialised stand-in weights.")
    generation_params = models.JSONField(default=dict)
    seed = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("job", "variant_index", "revision")
        constraints = [
            models.UniqueConstraint(fields=("job", "variant_index", "revision"), name="artifact_unique_job_variant_rev"),
            # The publication invariant, enforced by the database for every entry path:
            # a blocked artifact is never approved, scheduled or published ...
            models.CheckConstraint(
                condition=~models.Q(safety_decision="block", status__in=("approved", "scheduled", "published")),
                name="artifact_blocked_never_approved",
            ),
            # ... and an approved, scheduled or published one passed screening or was approved
            # by a reviewer (a user, or an API key with the content:review scope).
            models.CheckConstraint(
                condition=~models.Q(status__in=("approved", "scheduled", "published"))
                | models.Q(safety_decision="pass")
                | models.Q(reviewed_by__isnull=False)
                | models.Q(reviewed_by_api_key__isnull=False),
                name="artifact_approval_needs_pass_or_reviewer",
            ),
            models.CheckConstraint(condition=models.Q(kind__in=ArtifactKind.values), name="artifact_kind_valid"),
            models.CheckConstraint(
                condition=models.Q(status__in=ArtifactStatus.values), name="artifact_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="scheduled") | models.Q(publish_at__isnull=False),
                name="artifact_scheduled_has_time",
            ),
        ]
        indexes = [
            # The publish sweep's question: which scheduled artifacts are due?
            models.Index(fields=("publish_at",), condition=models.Q(status="scheduled"), name="artifact_scheduled_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} artifact {self.variant_index} of job {self.job_id}"

    @property
    def file_url(self) -> str | None:
        """Where members and keys of the workspace fetch the file: by id, never by path."""
        from pressroom.jobs.media import artifact_file_url

        return artifact_file_url(self) if self.file else None


class ImageStepTiming(models.Model):
    """How long one denoising step of one image takes at a size on a worker's device, as
    measured the first time that worker ran the size. Job creation refuses image requests
    that could not finish within the soft time limit."""

    alias = models.CharField(max_length=100)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    device = models.CharField(max_length=64)
    seconds_per_step = models.FloatField()
    measured_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("alias", "width", "height", "device"), name="image_timing_unique")]

    def __str__(self) -> str:
        return f"{self.alias} {self.width}x{self.height} on {self.device}: {self.seconds_per_step:.2f} s/step"


class WorkerHeartbeat(models.Model):
    """What a worker last reported: its queues, device and the models it holds. Written
    by the worker itself, read by the operators' status page."""

    name = models.CharField(max_length=255, unique=True)
    queues = models.JSONField(default=list)
    device = models.CharField(max_length=64, blank=True)
    loaded_models = models.JSONField(default=list)
    # check name -> the model or rules that score it in this worker.
    safety_scorers = models.JSONField(default=dict, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField()

    class Meta:
        ordering = ("-last_seen",)

    def __str__(self) -> str:
        return self.name
