"""A campaign follows its jobs: when the last one finishes, the campaign is finished,
audited and announced (`campaign.finished`). Called by the job services inside the
transaction that finished the job; the campaign's row lock orders concurrent finishes,
so exactly one of them sees nothing left to run."""
from __future__ import annotations

from django.db.models import Count, Q
from django.utils import timezone

from pressroom.audit.services import audit_record
from pressroom.campaigns.models import Campaign
from pressroom.jobs.models import FINISHED_JOB_STATUSES, Job, JobStatus
from pressroom.publishing.services import webhook_event_emit


def campaign_job_finished(job: Job) -> None:
    if job.campaign_id is not None:
        campaign_finish_if_done(Campaign.objects.select_for_update().get(pk=job.campaign_id))


def campaign_job_reopened(job: Job) -> None:
    """An operator retried one of a finished campaign's jobs: it runs again, so does the campaign."""
    if job.campaign_id is not None:
        Campaign.objects.filter(pk=job.campaign_id).update(finished_at=None)


def campaign_finish_if_done(campaign: Campaign) -> bool:
    """The caller holds the campaign's row lock."""
    if campaign.finished_at is not None or campaign.jobs.exclude(status__in=FINISHED_JOB_STATUSES).exists():
        return False
    counts = campaign.jobs.aggregate(
        succeeded=Count("pk", filter=Q(status=JobStatus.SUCCEEDED)),
        failed=Count("pk", filter=Q(status=JobStatus.FAILED)),
        cancelled=Count("pk", filter=Q(status=JobStatus.CANCELLED)),
    )
    campaign.finished_at = timezone.now()
    campaign.save(update_fields=["finished_at"])
    audit_record(workspace_id=campaign.workspace_id, action="campaign.finished", object_type="campaign",
                 object_id=campaign.pk, data=counts)
    webhook_event_emit(workspace_id=campaign.workspace_id, event="campaign.finished",
                       data={"campaign": str(campaign.pk), "name": campaign.name, "use_case": campaign.use_case,
                             "jobs": campaign.total_jobs, **counts})
    return True
