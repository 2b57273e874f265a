"""Reads of recurring campaigns, always scoped to the caller's workspace."""
from __future__ import annotations

from django.db.models import QuerySet

from pressroom.accounts.access import Access
from pressroom.accounts.models import Scope
from pressroom.schedules.models import CampaignSchedule


def campaign_schedule_list(*, access: Access) -> QuerySet[CampaignSchedule]:
    if not (access.can(Scope.CONTENT_READ) or access.can(Scope.JOBS_WRITE)):
        return CampaignSchedule.objects.none()
    return (CampaignSchedule.objects.filter(workspace=access.workspace)
            .select_related("workspace", "periodic_task", "periodic_task__crontab"))
