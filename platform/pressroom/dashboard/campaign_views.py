"""Dashboard pages for campaigns: the list, a new campaign from an upload (with the per-row
report when it is refused), and one campaign's live progress, bulk review and exports.
Thin like dashboard/views.py: access from the URL, one service or selector, render."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from pressroom.accounts.models import Role
from pressroom.campaigns.api import campaign_export_response
from pressroom.campaigns.examples import example_csv, upload_columns
from pressroom.campaigns.models import Campaign, CampaignSource
from pressroom.campaigns.rows import CampaignRowsInvalid, RowError, decode_upload, rows_from_text, upload_format
from pressroom.campaigns.selectors import (
    EXPORT_FORMATS, artifacts_for_review, campaign_get, campaign_list, campaign_progress, campaign_results,
)
from pressroom.campaigns.services import campaign_artifacts_approve, campaign_cancel, campaign_create
from pressroom.conf import pressroom_settings
from pressroom.core.errors import InputInvalid, NotAllowed, PressroomError, QuotaExceeded
from pressroom.dashboard import presenters
from pressroom.dashboard.access import workspace_view
from pressroom.dashboard.campaign_forms import FILTERS, ApproveForm, CampaignForm
from pressroom.dashboard.views import HTMX_STOP_POLLING, _form_errors, _run_service, _use_case_or_404
from pressroom.jobs.models import Artifact, ArtifactStatus, Job, JobStatus
from pressroom.plugins import use_case_registry
from pressroom.plugins.selectors import use_cases_offered

CAMPAIGNS_PER_PAGE = 20
ROWS_PER_PAGE = 50
INPUT_SUMMARY_FIELDS = 3
# pydantic's wording before a validator's own message; the message alone reads better.
VALIDATOR_PREFIXES = ("Value error, ", "Assertion failed, ")


def _campaign_url(request, campaign: Campaign) -> str:
    return reverse("dashboard:campaign", args=[request.access.workspace.slug, campaign.pk])


# -- list ----------------------------------------------------------------------------
@workspace_view()
def campaign_index(request):
    page = Paginator(campaign_list(access=request.access), CAMPAIGNS_PER_PAGE).get_page(request.GET.get("page"))
    titles = {u.key: u.title for u in use_case_registry.all()}
    progresses = [(campaign, campaign_progress(campaign)) for campaign in page]
    rows = [(campaign, titles.get(campaign.use_case, campaign.use_case), progress, _segments(progress))
            for campaign, progress in progresses]
    return render(request, "dashboard/campaigns/list.html", {"page": page, "rows": rows})


# -- new -----------------------------------------------------------------------------
def _plain(message: str) -> str:
    for prefix in VALIDATOR_PREFIXES:
        message = message.removeprefix(prefix)
    return message


def _rows_from_upload(form: CampaignForm, use_case) -> tuple[list[dict], dict]:
    upload = form.cleaned_data["file"]
    fmt = upload_format(upload.name, form.cleaned_data["format"] or None)
    rows = rows_from_text(decode_upload(upload.read()), fmt, use_case)
    return rows, {"file": upload.name[:200], "format": fmt}


def _create_from_form(request, form: CampaignForm) -> Campaign:
    use_case = _use_case_or_404(form.cleaned_data["use_case"], request.access.workspace)
    rows, origin = _rows_from_upload(form, use_case)
    return campaign_create(access=request.access, use_case_key=use_case.key, rows=rows, name=form.cleaned_data["name"],
                           priority=form.cleaned_data["priority"], source=CampaignSource.UPLOAD, origin=origin)


def _in_words(error: PressroomError) -> str:
    """The message and its field messages, without field paths."""
    details = [_plain(m) for msgs in getattr(error, "field_errors", {}).values() for m in msgs]
    return " ".join([error.message, *details])


def _row_report(error: CampaignRowsInvalid) -> dict[str, Any]:
    limit = pressroom_settings.CAMPAIGN_MAX_REPORTED_ERRORS
    shown = [RowError(e.row, e.field, _plain(e.message)) for e in error.row_errors[:limit]]
    return {"summary": error.message, "errors": shown, "total": len(error.row_errors),
            "rows": len({e.row for e in error.row_errors})}


def _new_page(request, form: CampaignForm, use_cases: list, status: int, report: dict | None = None):
    chosen = form["use_case"].value() or (use_cases[0].key if use_cases else None)
    use_case = next((u for u in use_cases if u.key == chosen), None)
    return render(request, "dashboard/campaigns/new.html", {
        "form": form, "report": report, "use_case": use_case, "columns": upload_columns(use_case) if use_case else [],
    }, status=status)


@workspace_view(Role.EDITOR)
def campaign_new(request):
    use_cases = use_cases_offered(workspace=request.access.workspace)
    initial = {"use_case": request.GET.get("use_case", "")}
    form = CampaignForm(request.POST or None, request.FILES or None, use_cases=use_cases, initial=initial)
    if request.method != "POST":
        return _new_page(request, form, use_cases, 200)
    if not form.is_valid():
        return _new_page(request, form, use_cases, 400)
    try:
        campaign = _create_from_form(request, form)
    except CampaignRowsInvalid as error:
        return _new_page(request, form, use_cases, 400, report=_row_report(error))
    except InputInvalid as error:
        form.add_service_errors({path: [_plain(m) for m in msgs] for path, msgs in error.field_errors.items()}
                                or {"file": [error.message]})
        return _new_page(request, form, use_cases, 400)
    except QuotaExceeded as error:
        form.add_error(None, error.message)
        return _new_page(request, form, use_cases, 429)
    messages.success(request, f"Campaign created: {campaign.total_jobs} job{'s' if campaign.total_jobs != 1 else ''} queued.")
    return redirect(_campaign_url(request, campaign))


@workspace_view(Role.EDITOR)
def campaign_columns(request):
    """The expected CSV header of the use case chosen on the new-campaign page (htmx)."""
    use_case = _use_case_or_404(request.GET.get("use_case", ""), request.access.workspace)
    return render(request, "dashboard/campaigns/partials/columns.html", {"use_case": use_case, "columns": upload_columns(use_case)})


@workspace_view()
def campaign_example(request, key: str):
    use_case = _use_case_or_404(key, request.access.workspace)
    response = HttpResponse(example_csv(use_case), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="campaign-example-{use_case.key}.csv"'
    return response


# -- one campaign --------------------------------------------------------------------
def _campaign(request, campaign_id) -> Campaign:
    return campaign_get(access=request.access, campaign_id=campaign_id)


def _live_context(request, campaign: Campaign) -> dict[str, Any]:
    progress = campaign_progress(campaign)
    return {"campaign": campaign, "progress": progress, "segments": _segments(progress),
            "minutes_left": None if progress.seconds_left is None else max(1, round(progress.seconds_left / 60))}


def _segments(progress) -> list[tuple[str, str, int, float]]:
    """The bar's parts: (css name, label, count, width in percent)."""
    parts = [("done", "Done", progress.done), ("running", "Running", progress.running),
             ("queued", "Queued", progress.queued), ("failed", "Failed", progress.failed),
             ("cancelled", "Cancelled", progress.cancelled)]
    return [(name, label, count, round(100 * count / progress.total, 2)) for name, label, count in parts]


def _filtered_results(campaign: Campaign, chosen: str) -> QuerySet[Job]:
    """Rows whose job failed, or that hold a current result in the chosen state."""
    if chosen == "failed":
        return campaign_results(campaign, status=JobStatus.FAILED)
    jobs = campaign_results(campaign)
    if chosen:
        jobs = jobs.filter(Exists(Artifact.objects.filter(job=OuterRef("pk"), status=chosen)))
    return jobs


@dataclass
class ResultRow:
    job: Job
    summary: str
    variants: list


def _input_summary(data: Any, names: list[str]) -> str:
    if not isinstance(data, dict):
        return ""
    shown = []
    for name in names:
        value = data.get(name)
        if value in (None, "", [], {}):
            continue
        text = "; ".join(map(str, value)) if isinstance(value, list) else str(value)
        shown.append(f"{name}: {text}")
        if len(shown) == INPUT_SUMMARY_FIELDS:
            break
    return " · ".join(shown)


def _summary_fields(campaign: Campaign) -> list[str]:
    """What a row is about: required fields first, tuning knobs last."""
    use_case = use_case_registry.get(campaign.use_case)
    if use_case is None:
        return []
    schema = use_case.input_json_schema()
    required = set(schema.get("required", ()))
    return sorted(schema.get("properties", {}), key=lambda name: (name not in required, name in ("variants", "seed")))


def _result_rows(jobs, campaign: Campaign) -> list[ResultRow]:
    names = _summary_fields(campaign)
    return [ResultRow(job, _input_summary(job.input, names), presenters.variants(list(job.artifacts.all()))) for job in jobs]


@workspace_view()
def campaign_detail(request, campaign_id):
    campaign = _campaign(request, campaign_id)
    chosen = request.GET.get("status", "")
    chosen = chosen if chosen in FILTERS else ""
    page = Paginator(_filtered_results(campaign, chosen), ROWS_PER_PAGE).get_page(request.GET.get("page"))
    use_case = use_case_registry.get(campaign.use_case)
    return render(request, "dashboard/campaigns/detail.html", {
        **_live_context(request, campaign), "page": page, "rows": _result_rows(page, campaign), "filters": FILTERS,
        "chosen": chosen, "export_formats": EXPORT_FORMATS, "use_case_title": use_case.title if use_case else campaign.use_case,
        "reviewable": (ArtifactStatus.PASSED, ArtifactStatus.FLAGGED),
        "passed_count": artifacts_for_review(campaign, status=ArtifactStatus.PASSED).count(),
    })


@workspace_view()
def campaign_live(request, campaign_id):
    """The progress card, polled by htmx until the campaign has finished."""
    context = _live_context(request, _campaign(request, campaign_id))
    response = render(request, "dashboard/campaigns/partials/progress.html", context)
    if context["progress"].finished:
        response.status_code = HTMX_STOP_POLLING
        response["HX-Trigger"] = "campaign-finished"  # the results table reloads itself
    return response


@workspace_view(Role.EDITOR)
@require_POST
def campaign_cancel_view(request, campaign_id):
    campaign = _campaign(request, campaign_id)
    outcome = _run_service(request, lambda: campaign_cancel(campaign=campaign, access=request.access), "Campaign cancelled.")
    if outcome and outcome["running_asked_to_stop"]:
        messages.info(request, f"{outcome['running_asked_to_stop']} running jobs stop at their next step.")
    return redirect(_campaign_url(request, campaign))


def _back_to(request, campaign: Campaign):
    """The page the form was on (its filter and page number), if it is this campaign's."""
    target, own = request.POST.get("next", ""), _campaign_url(request, campaign)
    return redirect(target if target.startswith(own) else own)


def _approved_message(count: int) -> str:
    return f"Approved {count} result{'s' if count != 1 else ''}." if count else "Nothing was approved: none of those results could be."


@workspace_view(Role.REVIEWER)
@require_POST
def campaign_approve_view(request, campaign_id):
    campaign = _campaign(request, campaign_id)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing was approved: " + _form_errors(form))
        return _back_to(request, campaign)
    ids = form.chosen_ids()
    if ids == []:
        messages.error(request, "Nothing was approved: tick the results to approve first.")
        return _back_to(request, campaign)
    try:
        approved = campaign_artifacts_approve(campaign=campaign, access=request.access, artifact_ids=ids,
                                              comment=form.cleaned_data["comment"])
    except NotAllowed as error:
        raise PermissionDenied(error.message) from None
    except PressroomError as error:
        messages.error(request, "Nothing was approved: " + _in_words(error))
        return _back_to(request, campaign)
    (messages.success if approved else messages.info)(request, _approved_message(approved))
    return _back_to(request, campaign)


@workspace_view()
def campaign_export(request, campaign_id, fmt: str):
    if fmt not in EXPORT_FORMATS:
        raise Http404("No such export format.")
    return campaign_export_response(_campaign(request, campaign_id), fmt)
