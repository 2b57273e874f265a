"""The usage ledger (one entry per job attempt that reached an end, written with the
job's result), its daily sums, and the quotas an operator sets per workspace."""
from __future__ import annotations

from django.db import models
from django.utils import timezone

from pressroom.accounts.models import Workspace


class Metric(models.TextChoices):
    JOBS = "jobs", "jobs"
    TOKENS = "tokens", "tokens"
    IMAGES = "images", "images"
    MODEL_SECONDS = "model_seconds", "model-seconds"


class Period(models.TextChoices):
    DAY = "day", "daily"
    MONTH = "month", "monthly"


class Outcome(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    RETRIED = "retried", "Retried later"


class UsageTotals(models.Model):
    """The measured amounts every ledger row carries."""

    jobs = models.PositiveIntegerField(default=0)
    input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)
    images = models.PositiveIntegerField(default=0)
    steps = models.PositiveBigIntegerField(default=0)
    model_seconds = models.FloatField(default=0.0)

    class Meta:
        abstract = True


class UsageRecord(UsageTotals):
    """What one attempt of a job spent. `jobs` is 1 when the attempt ended the job, 0 for an
    attempt that spent model time and then went back to the queue."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="usage_records")
    # The ledger outlives a deleted job; it keeps the use case itself.
    job = models.ForeignKey("jobs.Job", null=True, on_delete=models.SET_NULL, related_name="usage_records")
    use_case = models.CharField(max_length=100)
    attempt = models.PositiveIntegerField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    recorded_at = models.DateTimeField(default=timezone.now)
    day = models.DateField(help_text="UTC day of recorded_at.")

    class Meta:
        ordering = ("-recorded_at", "-pk")
        indexes = [models.Index(fields=("workspace", "day"), name="usage_record_ws_day")]

    def __str__(self) -> str:
        return f"{self.use_case} {self.outcome} on {self.day}"


class UsageDay(UsageTotals):
    """The ledger summed per workspace, UTC day and use case, kept in the same transaction
    as each entry: quotas and the usage page read a month as a few rows."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="usage_days")
    day = models.DateField()
    use_case = models.CharField(max_length=100)

    class Meta:
        ordering = ("day", "use_case")
        constraints = [models.UniqueConstraint(fields=("workspace", "day", "use_case"), name="usage_day_unique")]

    def __str__(self) -> str:
        return f"{self.use_case} on {self.day}"


def _limit(metric: str, period: str) -> models.PositiveBigIntegerField:
    return models.PositiveBigIntegerField(
        null=True, blank=True, verbose_name=f"{metric} per {period}", help_text="Blank: unlimited.")


class Quota(models.Model):
    """A workspace's limits per UTC day and month. Blank means unlimited. Set by operators in
    the admin; jobs and campaigns are refused when created (quota_reserve)."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="quota")
    jobs_per_day = _limit("jobs", "day")
    jobs_per_month = _limit("jobs", "month")
    tokens_per_day = _limit("tokens", "day")
    tokens_per_month = _limit("tokens", "month")
    images_per_day = _limit("images", "day")
    images_per_month = _limit("images", "month")
    model_seconds_per_day = _limit("model-seconds", "day")
    model_seconds_per_month = _limit("model-seconds", "month")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Quota of {self.workspace}"

    @staticmethod
    def field_name(metric: str, period: str) -> str:
        return f"{metric}_per_{period}"

    def limits(self, period: str) -> dict[str, int]:
        """The limits set for a period, by metric (unlimited ones left out)."""
        values = {metric: getattr(self, self.field_name(metric, period)) for metric in Metric.values}
        return {metric: limit for metric, limit in values.items() if limit is not None}
