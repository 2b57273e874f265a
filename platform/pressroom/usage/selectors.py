"""Reads of the usage ledger, always scoped to one workspace. The usage page, the usage API
and the quota check all count through here, so they agree with each other and the ledger."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from pressroom.accounts.access import Access
from pressroom.accounts.models import Scope, Workspace
from pressroom.jobs.models import Job, JobStatus
from pressroom.usage.metering import Usage
from pressroom.usage.models import Metric, Period, Quota, UsageDay

# Ledger columns summed for each consumption metric (jobs are counted from the jobs table).
CONSUMED = {
    Metric.TOKENS: F("input_tokens") + F("output_tokens"),
    Metric.IMAGES: F("images"),
    Metric.MODEL_SECONDS: F("model_seconds"),
}
LEDGER_FIELDS = ("jobs", *Usage.metric_names())


# -- periods (UTC) --------------------------------------------------------------------
def period_start(period: str, now: datetime) -> datetime:
    now = now.astimezone(dt_timezone.utc)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day if period == Period.DAY else day.replace(day=1)


def period_resets_at(period: str, now: datetime) -> datetime:
    """The UTC start of the next day or month."""
    start = period_start(period, now)
    if period == Period.DAY:
        return start + timedelta(days=1)
    return (start + timedelta(days=32)).replace(day=1)


def period_usage(*, workspace: Workspace, metrics: Iterable[str] = Metric.values,
                 periods: Iterable[str] = Period.values, now: datetime | None = None) -> dict[str, dict[str, float]]:
    """Usage in the current UTC day and month as quotas count it, {period: {metric: amount}}:
    jobs created (queued ones too) from the jobs table, consumed amounts from the ledger's
    daily sums. At most two indexed queries, fewer when fewer metrics are asked for."""
    now, metrics, periods = now or timezone.now(), set(metrics), list(periods)
    starts = {period: period_start(period, now) for period in periods}
    earliest = min(starts.values())
    usage: dict[str, dict[str, float]] = {period: {} for period in periods}
    if Metric.JOBS in metrics:
        # Naming every status lets PostgreSQL read the (workspace, status, -created_at) index
        # as one range per status instead of every job the workspace ever had; counting an
        # indexed column keeps the heap out of it where the visibility map allows.
        counts = Job.objects.filter(workspace=workspace, status__in=JobStatus.values, created_at__gte=earliest).aggregate(
            **{period: Count("created_at", filter=Q(created_at__gte=start)) for period, start in starts.items()})
        for period in periods:
            usage[period][Metric.JOBS] = counts[period]
    consumed = [metric for metric in CONSUMED if metric in metrics]
    if consumed:
        sums = UsageDay.objects.filter(workspace=workspace, day__gte=earliest.date()).aggregate(**{
            f"{period}:{metric}": Sum(CONSUMED[metric], filter=Q(day__gte=start.date()), default=0)
            for period, start in starts.items() for metric in consumed
        })
        for key, amount in sums.items():
            period, metric = key.split(":")
            usage[period][metric] = amount
    return usage


# -- the usage report -----------------------------------------------------------------
@dataclass
class LimitStatus:
    metric: str
    period: str
    limit: int | None  # None: unlimited
    usage: float
    resets_at: datetime

    @property
    def exceeded(self) -> bool:
        return self.limit is not None and self.usage >= self.limit

    @property
    def share(self) -> float:
        """How much of the limit is used, 0..1 (0 when unlimited)."""
        return min(self.usage / self.limit, 1.0) if self.limit else (1.0 if self.limit == 0 else 0.0)


@dataclass
class UsageReport:
    start: date
    end: date
    totals: dict[str, float]
    days: list[tuple[date, dict[str, float], dict[str, dict[str, float]]]]  # (day, totals, by use case)
    use_cases: list[tuple[str, dict[str, float]]]
    limits: list[LimitStatus] = field(default_factory=list)


def _zero() -> dict[str, float]:
    return dict.fromkeys(LEDGER_FIELDS, 0)


def _add(totals: dict[str, float], row: dict) -> None:
    for name in LEDGER_FIELDS:
        totals[name] += row[name]


def _finish(totals: dict[str, float]) -> dict[str, float]:
    totals["tokens"] = totals["input_tokens"] + totals["output_tokens"]
    totals["model_seconds"] = round(totals["model_seconds"], 3)
    return totals


def limit_statuses(*, workspace: Workspace, now: datetime | None = None) -> list[LimitStatus]:
    """Every metric in every period: its limit (None: unlimited), the usage quotas count and
    when it resets."""
    now = now or timezone.now()
    quota = Quota.objects.filter(workspace=workspace).first()
    usage = period_usage(workspace=workspace, now=now)
    return [
        LimitStatus(metric=metric, period=period,
                    limit=getattr(quota, Quota.field_name(metric, period)) if quota else None,
                    usage=round(usage[period][metric], 3), resets_at=period_resets_at(period, now))
        for period in Period.values for metric in Metric.values
    ]


def usage_report(*, access: Access, start: date, end: date) -> UsageReport:
    """The ledger of the caller's workspace from `start` to `end` (UTC days, both included),
    per day (every day, zeros too) and per use case, with totals and the current limits."""
    access.require(Scope.CONTENT_READ)
    rows = UsageDay.objects.filter(workspace=access.workspace, day__gte=start, day__lte=end).values(
        "day", "use_case", *LEDGER_FIELDS)
    by_day = {start + timedelta(days=n): (_zero(), {}) for n in range((end - start).days + 1)}
    by_use_case: dict[str, dict[str, float]] = {}
    totals = _zero()
    for row in rows:
        day_totals, day_use_cases = by_day[row["day"]]
        _add(day_totals, row)
        _add(day_use_cases.setdefault(row["use_case"], _zero()), row)
        _add(by_use_case.setdefault(row["use_case"], _zero()), row)
        _add(totals, row)
    return UsageReport(
        start=start, end=end, totals=_finish(totals),
        days=[(day, _finish(t), {k: _finish(v) for k, v in sorted(u.items())}) for day, (t, u) in by_day.items()],
        use_cases=sorted(((key, _finish(t)) for key, t in by_use_case.items()), key=lambda item: (-item[1]["model_seconds"], item[0])),
        limits=limit_statuses(workspace=access.workspace),
    )
