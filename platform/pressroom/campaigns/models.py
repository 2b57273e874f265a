import uuid

from django.conf import settings
from django.db import models

from pressroom.accounts.models import Workspace


class CampaignSource(models.TextChoices):
    API = "api", "REST API"
    UPLOAD = "upload", "Upload"
    SCHEDULE = "schedule", "Schedule"


class Campaign(models.Model):
    """Many jobs of one use case from one upload or request: one row, one job. Its jobs
    carry `campaign` and `campaign_row`; progress is counted from them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(max_length=200)
    use_case = models.CharField(max_length=100)
    priority = models.PositiveSmallIntegerField(default=3)
    source = models.CharField(max_length=16, choices=CampaignSource.choices, default=CampaignSource.API)
    # Where the rows came from: a file name, a schedule's id.
    origin = models.JSONField(default=dict, blank=True)
    total_jobs = models.PositiveIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set once, when the last of its jobs finished (and campaign.finished was sent).
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=("workspace", "-created_at"), name="campaign_ws_created")]
        constraints = [
            models.CheckConstraint(condition=models.Q(total_jobs__gte=1), name="campaign_has_jobs"),
            models.CheckConstraint(condition=models.Q(priority__lte=9), name="campaign_priority_0_9"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.total_jobs} × {self.use_case})"
