"""Marketer dashboard. Views are thin: they resolve access (access.py), parse a form,
call one service, and render. Every rule (roles for review, states, safety) is enforced
again by the services, whatever the page showed."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from pressroom.accounts.models import Role
from pressroom.accounts.selectors import api_key_get, api_key_list
from pressroom.accounts.services import api_key_create, api_key_revoke
from pressroom.audit.selectors import audit_timeline
from pressroom.core.errors import InputInvalid, NotAllowed, PressroomError, QuotaExceeded
from pressroom.dashboard import charts, presenters
from pressroom.dashboard.access import user_workspaces, workspace_view
from pressroom.dashboard.first_run_views import first_run_needed
from pressroom.dashboard.forms import (
    ApiKeyForm,
    BrandVoiceForm,
    EditForm,
    PluginsForm,
    ReviewForm,
    SafetyPolicyForm,
    ScheduleForm,
    UseCaseForm,
)
from pressroom.jobs.models import Artifact, Job, JobStatus
from pressroom.jobs.selectors import QUEUE_POSITION_LIMIT, artifact_get, job_get, job_list, job_queue_position, review_queue
from pressroom.jobs.services import (
    artifact_approve,
    artifact_edit,
    artifact_publish,
    artifact_reject,
    artifact_schedule_cancel,
    artifact_schedule_publish,
    job_cancel,
    job_create,
)
from pressroom.jobs.validation import job_input_validate, use_case_get
from pressroom.plugins import use_case_registry
from pressroom.plugins.selectors import installed_plugins, use_case_check_offered, use_cases_offered
from pressroom.plugins.services import brand_voice_get, brand_voice_save, workspace_plugins_set
from pressroom.safety.services import safety_policy_get, safety_policy_update
from pressroom.usage.selectors import usage_report

# htmx stops polling when a response has this status (https://htmx.org/docs/#polling).
HTMX_STOP_POLLING = 286


def _url(name: str, request, *args) -> str:
    return reverse(f"dashboard:{name}", args=[request.access.workspace.slug, *args])


def home(request):
    if not request.user.is_authenticated:
        return redirect("dashboard:login")
    workspaces = user_workspaces(request.user)
    if not workspaces:
        if first_run_needed(request.user):
            return redirect("dashboard:first_run")
        # Signed in but nowhere to go: a page to read, not an error.
        return render(request, "dashboard/no_workspace.html")
    return redirect("dashboard:catalogue", workspaces[0].slug)


@login_required
def switch_workspace(request):
    slug = request.GET.get("to", "")
    if not any(w.slug == slug for w in user_workspaces(request.user)):
        raise Http404("No such workspace.")
    return redirect("dashboard:catalogue", slug)


# -- catalogue and new jobs -----------------------------------------------------------
@workspace_view()
def catalogue(request):
    use_cases = presenters.use_cases_by_plugin(use_cases_offered(workspace=request.access.workspace))
    recent = job_list(access=request.access)[:10]
    widgets = presenters.plugin_widgets(workspace_slug=request.access.workspace.slug)
    return render(request, "dashboard/catalogue.html", {"plugins": use_cases, "recent_jobs": recent, "widgets": widgets})


def _use_case_or_404(key: str, workspace):
    try:
        return use_case_check_offered(workspace=workspace, use_case=use_case_get(key))
    except InputInvalid:
        raise Http404("No such use case in this workspace.") from None


@workspace_view(Role.EDITOR)
def job_new(request, key: str):
    use_case = _use_case_or_404(key, request.access.workspace)
    form = UseCaseForm(request.POST or None, schema=use_case.input_json_schema())
    if request.method == "POST" and form.is_valid():
        try:
            job = job_create(access=request.access, use_case_key=use_case.key, input=form.raw_input(),
                             priority=form.chosen_priority)
            return redirect("dashboard:job", request.access.workspace.slug, job.pk)
        except InputInvalid as error:
            form.add_service_errors(error.field_errors)
            messages.error(request, error.message)
        except QuotaExceeded as error:
            form.add_error(None, error.message)
            return render(request, "dashboard/job_new.html", {"use_case": use_case, "form": form}, status=429)
    status = 400 if request.method == "POST" else 200
    return render(request, "dashboard/job_new.html", {"use_case": use_case, "form": form}, status=status)


@workspace_view(Role.EDITOR)
@require_POST
def job_validate(request, key: str):
    """Inline validation while the form is filled: the use case's own schema, no job."""
    use_case = _use_case_or_404(key, request.access.workspace)
    form = UseCaseForm(request.POST, schema=use_case.input_json_schema())
    errors: dict[str, list[str]] = {}
    form.is_valid()  # parse what parses; the schema judges the rest
    try:
        job_input_validate(use_case=use_case, raw_input=form.raw_input())
    except InputInvalid as error:
        form.add_service_errors(error.field_errors)
    touched = presenters.touched_fields(form, request.POST.get("_touched", ""))
    for name in form.fields:
        errors[name] = form.errors.get(name, []) if name in touched else []
    return render(request, "dashboard/partials/field_errors.html", {"errors": errors})


# -- jobs ----------------------------------------------------------------------------
def _job(request, job_id) -> Job:
    return job_get(access=request.access, job_id=job_id)


def _job_context(request, job: Job) -> dict:
    artifacts = list(job.artifacts.all())
    # Settled: nothing about the job or its variants can change without a person acting.
    settled = job.is_finished and not any(a.status == "screening" for a in artifacts)
    return {"job": job, "queue_position": job_queue_position(job), "queue_position_limit": QUEUE_POSITION_LIMIT, "variants": presenters.variants(artifacts),
            "expected_variants": presenters.expected_variants(job, artifacts), "polling": not settled,
            "return_to": _url("job", request, job.pk)}


def _job_timeline(job: Job) -> list:
    artifacts = list(job.artifacts.all())
    events = audit_timeline(workspace_id=job.workspace_id, job_id=job.pk, artifact_ids=[a.pk for a in artifacts])
    return presenters.label_timeline(events, artifacts)


@workspace_view()
def job_detail(request, job_id):
    job = _job(request, job_id)
    use_case = use_case_registry.get(job.use_case)
    return render(request, "dashboard/job.html", {**_job_context(request, job), "timeline": _job_timeline(job),
                                                  "title": use_case.title if use_case else job.use_case,
                                                  "input_json": presenters.pretty_json(job.input)})


@workspace_view()
def job_live(request, job_id):
    """The live part of the job page, polled by htmx until nothing can change any more."""
    job = _job(request, job_id)
    context = _job_context(request, job)
    response = render(request, "dashboard/partials/job_live.html", context)
    if not context["polling"]:
        response.status_code = HTMX_STOP_POLLING
        response["HX-Trigger"] = "job-settled"  # the audit timeline reloads itself
    return response


@workspace_view()
def job_audit(request, job_id):
    return render(request, "dashboard/partials/timeline.html", {"timeline": _job_timeline(_job(request, job_id))})


@workspace_view(Role.EDITOR)
@require_POST
def job_cancel_view(request, job_id):
    job = _job(request, job_id)
    _run_service(request, lambda: job_cancel(job=job, access=request.access), "Cancellation requested.")
    return redirect("dashboard:job", request.access.workspace.slug, job.pk)


@workspace_view()
def job_index(request):
    status = request.GET.get("status") or None
    jobs = job_list(access=request.access, status=status if status in JobStatus.values else None)[:100]
    return render(request, "dashboard/jobs.html", {"jobs": jobs})


# -- usage ---------------------------------------------------------------------------
@workspace_view()
def usage(request):
    """This UTC month of the usage ledger per day and per use case, and the totals beside
    the workspace's limits; the same selector as GET /api/v1/usage/."""
    metric = request.GET.get("metric")
    metric = metric if metric in charts.METRIC_UNITS else "model_seconds"
    today = timezone.now().date()
    month_end = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    report = usage_report(access=request.access, start=today.replace(day=1), end=month_end)
    return render(request, "dashboard/usage.html", {
        "report": report, "metric": metric, "metric_label": charts.METRIC_UNITS[metric], "metrics": charts.METRIC_UNITS,
        "limits": charts.limit_rows(report),
        **charts.usage_charts(report, metric),
    })


# -- review --------------------------------------------------------------------------
def _artifact(request, artifact_id) -> Artifact:
    return artifact_get(access=request.access, artifact_id=artifact_id)


@workspace_view(Role.REVIEWER)
def review(request):
    waiting = [presenters.variant(a) for a in review_queue(access=request.access)[:50]]
    return render(request, "dashboard/review.html", {"variants": waiting})


@workspace_view()
def artifact_detail(request, artifact_id):
    artifact = _artifact(request, artifact_id)
    timeline = audit_timeline(workspace_id=artifact.workspace_id, artifact_ids=[artifact.pk])
    return render(request, "dashboard/artifact.html", {"v": presenters.variant(artifact), "timeline": timeline,
                                                       "review_form": ReviewForm(), "edit_form": EditForm(initial={"text": artifact.text})})


def _run_service(request, call, done: str):
    """Run one service; a refusal becomes a message on the page, never a 500."""
    try:
        result = call()
    except NotAllowed as error:
        raise PermissionDenied(error.message) from None
    except PressroomError as error:
        messages.error(request, str(error))
        return None
    messages.success(request, done)
    return result


def _form_errors(form) -> str:
    return "; ".join(message for messages_ in form.errors.values() for message in messages_)


def _back(request, artifact: Artifact):
    target = request.POST.get("next", "")
    if target.startswith(f"/w/{request.access.workspace.slug}/"):
        return redirect(target)
    return redirect("dashboard:artifact", request.access.workspace.slug, artifact.pk)


@workspace_view(Role.REVIEWER)
@require_POST
def artifact_review(request, artifact_id, decision: str):
    artifact = _artifact(request, artifact_id)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing was changed: " + _form_errors(form))
        return _back(request, artifact)
    comment = form.cleaned_data["comment"]
    if decision == "approve":
        _run_service(request, lambda: artifact_approve(artifact=artifact, access=request.access, comment=comment), "Approved.")
    else:
        _run_service(request, lambda: artifact_reject(artifact=artifact, access=request.access, comment=comment), "Rejected.")
    return _back(request, artifact)


@workspace_view(Role.REVIEWER)
@require_POST
def artifact_edit_view(request, artifact_id):
    artifact = _artifact(request, artifact_id)
    form = EditForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The edit was not saved: " + _form_errors(form))
        return _back(request, artifact)
    revision = _run_service(request, lambda: artifact_edit(artifact=artifact, access=request.access, text=form.cleaned_data["text"],
                                                           comment=form.cleaned_data["comment"]),
                            "Saved as a new revision; it is screened again before it can be approved.")
    return redirect("dashboard:artifact", request.access.workspace.slug, (revision or artifact).pk)


@workspace_view(Role.REVIEWER)
@require_POST
def artifact_publish_view(request, artifact_id):
    artifact = _artifact(request, artifact_id)
    _run_service(request, lambda: artifact_publish(artifact=artifact, access=request.access), "Published.")
    return _back(request, artifact)


@workspace_view(Role.REVIEWER)
@require_POST
def artifact_schedule_view(request, artifact_id):
    artifact = _artifact(request, artifact_id)
    zone = ZoneInfo(request.access.workspace.time_zone)
    with timezone.override(zone):  # the time typed is the workspace's wall clock, not the server's
        form = ScheduleForm(request.POST)
        valid = form.is_valid()
    if not valid:
        messages.error(request, "Nothing was scheduled: " + _form_errors(form))
        return _back(request, artifact)
    publish_at = form.cleaned_data["publish_at"]
    _run_service(request, lambda: artifact_schedule_publish(artifact=artifact, access=request.access, publish_at=publish_at),
                 f"Scheduled to publish at {publish_at.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key}).")
    return _back(request, artifact)


@workspace_view(Role.REVIEWER)
@require_POST
def artifact_unschedule_view(request, artifact_id):
    artifact = _artifact(request, artifact_id)
    _run_service(request, lambda: artifact_schedule_cancel(artifact=artifact, access=request.access),
                 "Schedule cancelled: the artifact is approved and waits for you.")
    return _back(request, artifact)


# -- workspace administration --------------------------------------------------------
@workspace_view(Role.ADMIN)
def brand_settings(request):
    workspace, access = request.access.workspace, request.access
    policy = safety_policy_get(workspace=workspace)
    voice = brand_voice_get(workspace_id=workspace.pk)
    voice_form = BrandVoiceForm(request.POST if "save_voice" in request.POST else None, initial=presenters.voice_initial(voice))
    policy_form = SafetyPolicyForm(request.POST if "save_policy" in request.POST else None, initial=SafetyPolicyForm.initial_from(policy))
    plugins_form = PluginsForm(request.POST if "save_plugins" in request.POST else None, plugins=installed_plugins(),
                               workspace=workspace)
    if request.method == "POST":
        if plugins_form.is_bound and plugins_form.is_valid():
            enabled = plugins_form.cleaned_data["enabled"]
            if _run_service(request, lambda: workspace_plugins_set(access=access, enabled=enabled), "Plugins saved."):
                return redirect(_url("settings", request))
        if voice_form.is_bound and voice_form.is_valid():
            brand_voice_save(access=access, **voice_form.cleaned_data)
            messages.success(request, "Brand voice saved as a new version.")
            return redirect(_url("settings", request))
        if policy_form.is_bound and policy_form.is_valid():
            changes = policy_form.changes_for(policy)
            if not changes:
                messages.info(request, "Nothing changed.")
                return redirect(_url("settings", request))
            if _run_service(request, lambda: safety_policy_update(access=access, **changes), "Safety policy saved."):
                return redirect(_url("settings", request))
    return render(request, "dashboard/settings.html", {"voice_form": voice_form, "policy_form": policy_form, "voice": voice,
                                                       "plugins_form": plugins_form},
                  status=400 if request.method == "POST" else 200)


@workspace_view(Role.ADMIN)
def api_keys(request):
    form = ApiKeyForm(request.POST or None)
    token = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        expires = timezone.now() + timedelta(days=days) if days else None
        created = _run_service(request, lambda: api_key_create(access=request.access, name=form.cleaned_data["name"],
                                                               scopes=form.cleaned_data["scopes"], expires_at=expires),
                               "Key created. Copy the token now: it is shown only once.")
        if created:
            token, form = created[1], ApiKeyForm()
    keys = api_key_list(access=request.access)
    return render(request, "dashboard/api_keys.html", {"form": form, "keys": keys, "token": token})


@workspace_view(Role.ADMIN)
@require_POST
def api_key_revoke_view(request, key_id: int):
    key = api_key_get(access=request.access, key_id=key_id)
    _run_service(request, lambda: api_key_revoke(key=key, access=request.access), f"Key {key.prefix} revoked.")
    return redirect(_url("api_keys", request))

