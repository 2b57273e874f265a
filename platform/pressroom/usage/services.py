"""Writes for usage: ledger entries (called by the jobs services, inside the transaction
that records a job's result), quota reservations (inside the transaction that creates jobs)
and operators' quota changes."""
from __future__ import annotations

from datetime import timezone as dt_timezone
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from pressroom.accounts.access import Access
from pressroom.accounts.models import Workspace
from pressroom.audit.services import audit_record
from pressroom.core.errors import NotAllowed, QuotaExceeded
from pressroom.usage.metering import Usage
from pressroom.usage.models import Metric, Period, Quota, UsageDay, UsageRecord
from pressroom.usage.selectors import LEDGER_FIELDS, period_resets_at, period_usage

QUOTA_FIELDS = tuple(Quota.field_name(metric, period) for period in Period.values for metric in Metric.values)


# -- the ledger -------------------------------------------------------------------------
def usage_record(*, job: Any, usage: Usage | None, outcome: str, ends_job: bool = True) -> UsageRecord | None:
    """Add one attempt of a job to the ledger and to its day's sums. Call it inside the
    transaction that records the job's result, so a redelivered result that changes nothing
    adds nothing. An attempt that neither ended the job nor spent anything is not written."""
    usage = usage or Usage()
    if not ends_job and usage.is_empty:
        return None
    now = timezone.now()
    amounts = {"jobs": int(ends_job), **{name: getattr(usage, name) for name in Usage.metric_names()}}
    record = UsageRecord.objects.create(
        workspace_id=job.workspace_id, job=job, use_case=job.use_case, attempt=job.attempts, outcome=outcome,
        recorded_at=now, day=now.astimezone(dt_timezone.utc).date(), **amounts,
    )
    _add_to_day(record, amounts)
    return record


def _add_to_day(record: UsageRecord, amounts: dict[str, Any]) -> None:
    """Increment the (workspace, day, use case) sums; the first entry of a day creates them."""
    days = UsageDay.objects.filter(workspace_id=record.workspace_id, day=record.day, use_case=record.use_case)
    increments = {name: F(name) + amounts[name] for name in LEDGER_FIELDS}
    if days.update(**increments):
        return
    try:
        with transaction.atomic():  # a savepoint: a concurrent first entry may win the insert
            UsageDay.objects.create(workspace_id=record.workspace_id, day=record.day, use_case=record.use_case, **amounts)
    except IntegrityError:
        days.update(**increments)


# -- quotas -----------------------------------------------------------------------------
def quota_reserve(*, workspace: Workspace, jobs: int) -> None:
    """Refuse `jobs` new jobs with QuotaExceeded when they would cross the workspace's jobs
    limit, or when its token, image or model-second usage has reached a limit.

    Call it inside the transaction that creates the jobs, before writing them: it locks the
    workspace's quota row until that transaction ends, so concurrent creations are counted
    one after another and cannot all slip under a limit. A workspace without a quota costs
    one indexed read and locks nothing. When several limits are exceeded the error names the
    one that resets last (retrying earlier would still be refused).
    """
    quota = Quota.objects.select_for_update().filter(workspace=workspace).first()
    if quota is None:
        return
    now = timezone.now()
    limits = {period: quota.limits(period) for period in Period.values}
    limited = {metric for by_metric in limits.values() for metric in by_metric}
    if not limited:
        return
    usage = period_usage(workspace=workspace, metrics=limited, periods=[p for p in Period.values if limits[p]], now=now)
    refusals = []
    for period, by_metric in limits.items():
        for metric, limit in by_metric.items():
            used = usage[period][metric]
            over = used + jobs > limit if metric == Metric.JOBS else used >= limit
            if over:
                refusals.append(QuotaExceeded(metric=metric, period=period, limit=limit, usage=round(used, 3),
                                              resets_at=period_resets_at(period, now),
                                              requested=jobs if metric == Metric.JOBS else 0))
    if refusals:
        raise max(refusals, key=lambda refusal: refusal.resets_at)


def _require_operator(access: Access) -> None:
    """Quotas are the operator's: superusers, or the platform itself (access.user is None)."""
    user = access.user
    if access.api_key is not None or (user is not None and not user.is_superuser):
        raise NotAllowed("Only operators (superusers) set quotas.")


@transaction.atomic
def quota_set(*, access: Access, **limits: int | None) -> Quota:
    """Set the workspace's limits (None: unlimited); fields not named keep their value.
    Audited with the limits before and after."""
    _require_operator(access)
    unknown = set(limits) - set(QUOTA_FIELDS)
    if unknown:
        raise ValueError(f"Not quota limits: {', '.join(sorted(unknown))}")
    quota, _ = Quota.objects.select_for_update().get_or_create(workspace=access.workspace)
    before = {name: getattr(quota, name) for name in QUOTA_FIELDS}
    for name, value in limits.items():
        setattr(quota, name, value)
    quota.save()
    after = {name: getattr(quota, name) for name in QUOTA_FIELDS}
    if after != before:
        audit_record(workspace_id=access.workspace.pk, action="workspace.quota_changed", object_type="workspace",
                     object_id=access.workspace.pk, actor=access.actor, data={"before": before, "after": after})
    return quota
