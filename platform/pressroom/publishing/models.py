import secrets

from django.db import models

from pressroom.accounts.models import Workspace

WEBHOOK_EVENTS = ("artifact.published", "job.succeeded", "job.failed", "artifact.flagged", "campaign.finished")


def new_signing_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField("URL", max_length=1000)
    events = models.JSONField(default=list)
    # Shared with the receiver to verify signatures; it has to be readable to sign.
    secret = models.CharField(max_length=100, default=new_signing_secret)
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The circuit breaker: after WEBHOOK_PAUSE_AFTER_FAILURES failed attempts in a row the
    # endpoint pauses; its events wait as pending deliveries until an admin resumes it.
    consecutive_failures = models.PositiveIntegerField(default=0)
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.TextField(blank=True)

    class Meta:
        ordering = ("created_at",)

    def __str__(self) -> str:
        return self.url

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event for one endpoint; retried with backoff until it succeeds or gives up."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name_plural = "webhook deliveries"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    error = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("delivery", "number")
        constraints = [models.UniqueConstraint(fields=("delivery", "number"), name="delivery_attempt_unique_number")]


class PublicationFeedHead(models.Model):
    """Publishers lock this row, so feed positions are given in commit order per workspace."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, primary_key=True, related_name="+")
    last_position = models.BigIntegerField(default=0)


class PublishedItem(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="published_items")
    position = models.BigIntegerField()
    artifact = models.OneToOneField("jobs.Artifact", on_delete=models.PROTECT, related_name="feed_item")
    published_at = models.DateTimeField()

    class Meta:
        ordering = ("workspace", "position")
        constraints = [models.UniqueConstraint(fields=("workspace", "position"), name="published_unique_position")]
