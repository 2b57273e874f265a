import uuid

from django.conf import settings
from django.db import models
from django_celery_beat.models import PeriodicTask

from pressroom.accounts.models import Workspace

CRON_FIELDS = ("minute", "hour", "day_of_week", "day_of_month", "month_of_year")


class CampaignSchedule(models.Model):
    """A recurring campaign: on its cron schedule, in its workspace's time zone, the rows
    of `input_rows` (with {date}, {weekday} and {month} filled in) become a campaign.

    Celery beat runs it through its own PeriodicTask (django-celery-beat's database
    scheduler), which the services create, change and delete with it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="campaign_schedules")
    name = models.CharField(max_length=200)
    use_case = models.CharField(max_length=100)
    # A list of input objects, one job each; strings may hold {date}, {weekday}, {month}.
    input_rows = models.JSONField(default=list)
    # Cron fields as in crontab(5) and django-celery-beat: "0", "*/15", "1-5", "mon,wed".
    minute = models.CharField(max_length=240, default="0")
    hour = models.CharField(max_length=96, default="9")
    day_of_week = models.CharField(max_length=64, default="*")
    day_of_month = models.CharField(max_length=124, default="*")
    month_of_year = models.CharField(max_length=64, default="*")
    enabled = models.BooleanField(default=True)
    # PROTECT: deleting it in celery-beat's admin is refused; the schedule's services own it.
    periodic_task = models.OneToOneField(PeriodicTask, on_delete=models.PROTECT, related_name="campaign_schedule")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_campaign = models.ForeignKey("campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Why the last run made no campaign (empty after a run that did).
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ("workspace", "name")
        constraints = [models.UniqueConstraint(fields=("workspace", "name"), name="campaign_schedule_unique_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def cron(self) -> str:
        """The five fields in crontab(5) order: minute hour day-of-month month day-of-week."""
        return " ".join((self.minute, self.hour, self.day_of_month, self.month_of_year, self.day_of_week))
