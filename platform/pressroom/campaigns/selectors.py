"""Reads of campaigns, through the caller's Access: progress, results and exports."""
from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Iterator

from django.db.models import Count, Exists, Max, Min, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from pressroom.accounts.access import Access
from pressroom.campaigns.models import Campaign
from pressroom.jobs.models import Artifact, Job, JobStatus

EXPORT_FORMATS = ("csv", "jsonl", "zip")
# Results a marketer exports: what is usable or waiting for review, never superseded,
# rejected or blocked drafts (those stay in the audit trail and the API).
EXPORTED_STATUSES = ("passed", "flagged", "approved", "scheduled", "published")


def campaign_list(*, access: Access) -> QuerySet[Campaign]:
    return Campaign.objects.filter(workspace=access.workspace)


def campaign_get(*, access: Access, campaign_id) -> Campaign:
    campaign = Campaign.objects.filter(workspace=access.workspace, pk=campaign_id).first()
    if campaign is None:
        raise Http404("No such campaign.")
    return campaign


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    failed: int
    cancelled: int
    running: int
    queued: int
    percent: int
    jobs_per_minute: float | None
    seconds_left: int | None
    finished: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def campaign_progress(campaign: Campaign, now: datetime | None = None) -> Progress:
    """Counts by state, and the time left at the rate this campaign's jobs have been
    finishing since its first one started (None until one has finished)."""
    counts = campaign.jobs.aggregate(
        done=Count("pk", filter=Q(status=JobStatus.SUCCEEDED)), failed=Count("pk", filter=Q(status=JobStatus.FAILED)),
        cancelled=Count("pk", filter=Q(status=JobStatus.CANCELLED)), running=Count("pk", filter=Q(status=JobStatus.RUNNING)),
        queued=Count("pk", filter=Q(status=JobStatus.QUEUED)),
        first_started=Min("started_at"), last_finished=Max("finished_at", filter=Q(status=JobStatus.SUCCEEDED)),
    )
    first_started, last_finished = counts.pop("first_started"), counts.pop("last_finished")
    finished = counts["done"] + counts["failed"] + counts["cancelled"]
    rate = _jobs_per_second(counts["done"] + counts["failed"], first_started, last_finished)
    remaining = counts["running"] + counts["queued"]
    return Progress(
        total=campaign.total_jobs, percent=round(100 * finished / campaign.total_jobs), **counts,
        jobs_per_minute=round(rate * 60, 2) if rate else None,
        seconds_left=0 if not remaining else (round(remaining / rate) if rate else None),
        finished=campaign.finished_at is not None,
    )


def _jobs_per_second(finished: int, first_started: datetime | None, last_finished: datetime | None) -> float | None:
    if not finished or first_started is None or last_finished is None:
        return None
    elapsed = (last_finished - first_started).total_seconds()
    return finished / elapsed if elapsed > 0 else None


def campaign_results(campaign: Campaign, *, status: str | None = None) -> QuerySet[Job]:
    """The campaign's jobs in row order, each with its current artifacts and their verdicts."""
    jobs = campaign.jobs.order_by("campaign_row")
    if status:
        jobs = jobs.filter(status=status)
    superseded = Artifact.objects.filter(revision_of=OuterRef("pk"))
    current = Artifact.objects.exclude(Exists(superseded)).prefetch_related("verdicts")
    return jobs.prefetch_related(Prefetch("artifacts", queryset=current))


def artifacts_for_review(campaign: Campaign, *, status: str | None = None) -> QuerySet[Artifact]:
    artifacts = Artifact.objects.filter(job__campaign=campaign).select_related("job").prefetch_related("verdicts")
    artifacts = artifacts.filter(status=status) if status else artifacts
    return artifacts.order_by("job__campaign_row", "variant_index", "revision")


# -- exports ---------------------------------------------------------------------------
def _exported(campaign: Campaign, kind: str | None = None) -> Iterator[Artifact]:
    artifacts = (Artifact.objects.filter(job__campaign=campaign, status__in=EXPORTED_STATUSES)
                 .select_related("job").order_by("job__campaign_row", "variant_index", "revision"))
    if kind:
        artifacts = artifacts.filter(kind=kind)
    return artifacts.iterator(chunk_size=1000)


def _export_record(artifact: Artifact) -> dict[str, Any]:
    return {
        "row": artifact.job.campaign_row, "job": str(artifact.job_id), "artifact": str(artifact.pk),
        "variant_index": artifact.variant_index, "revision": artifact.revision, "kind": artifact.kind,
        "status": artifact.status, "safety_decision": artifact.safety_decision, "text": artifact.text,
        "data": artifact.data, "input": artifact.job.input,
        "provenance": {"model_alias": artifact.model_alias, "model_source": artifact.model_source,
                       "model_revision": artifact.model_revision, "model_placeholder": artifact.model_placeholder,
                       "seed": artifact.seed, "generation_params": artifact.generation_params},
        "created_at": artifact.created_at.isoformat(),
    }


CSV_COLUMNS = ("row", "job", "artifact", "variant_index", "revision", "kind", "status", "safety_decision", "text",
               "model_alias", "model_revision", "model_placeholder", "seed", "input", "data", "created_at")


def _csv_line(record: dict[str, Any]) -> str:
    flat = {**record, **record["provenance"], "input": json.dumps(record["input"], ensure_ascii=False),
            "data": json.dumps(record["data"], ensure_ascii=False)}
    buffer = io.StringIO()
    csv.writer(buffer).writerow([_spreadsheet_safe(flat[column]) for column in CSV_COLUMNS])
    return buffer.getvalue()


def _spreadsheet_safe(value: Any) -> Any:
    """Generated text starting with = + - @ would run as a formula when a spreadsheet opens
    the file (CSV injection); a leading apostrophe keeps it text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_csv(campaign: Campaign) -> Iterator[str]:
    yield ",".join(CSV_COLUMNS) + "\r\n"
    for artifact in _exported(campaign):
        yield _csv_line(_export_record(artifact))


def export_jsonl(campaign: Campaign) -> Iterator[str]:
    for artifact in _exported(campaign):
        yield json.dumps(_export_record(artifact), ensure_ascii=False) + "\n"


def export_zip(campaign: Campaign, target) -> int:
    """The campaign's images (and a manifest.jsonl of their provenance) into a ZIP written
    to `target` (a file object). Returns how many images it holds."""
    count = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:  # PNGs do not compress further
        manifest = []
        for artifact in _exported(campaign, kind="image"):
            if not artifact.file:
                continue
            name = f"row-{artifact.job.campaign_row:05d}-variant-{artifact.variant_index}-r{artifact.revision}.png"
            with artifact.file.open("rb") as image:
                archive.writestr(name, image.read())
            manifest.append(json.dumps({"file": name, **_export_record(artifact)}, ensure_ascii=False))
            count += 1
        archive.writestr("manifest.jsonl", "\n".join(manifest) + ("\n" if manifest else ""))
    return count


def export_file_name(campaign: Campaign, fmt: str) -> str:
    stamp = timezone.localtime(campaign.created_at).strftime("%Y%m%d-%H%M")
    return f"campaign-{stamp}-{str(campaign.pk)[:8]}.{fmt}"
