"""The operators' admin: every action goes through the services (audited, rules kept),
audit events are read-only, and the status page shows models, queues and workers."""
import json

import pytest
from django.urls import reverse
from pressroom.accounts.models import ApiKey, Scope
from pressroom.audit.models import AuditEvent
from pressroom.audit.services import SYSTEM, Actor
from pressroom.jobs import services as jobs
from pressroom.jobs.models import Job
from pressroom.jobs.operations import worker_heartbeat_record
from pressroom.accounts.access import Access

pytestmark = pytest.mark.django_db


def _failed_job(workspace):
    job = jobs.job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "Write a tagline"})
    jobs.job_start(job=job, worker="w1")
    return jobs.job_fail(job=job, error="CUDA error: device-side assert")


def test_retry_action_requeues_a_failed_job_through_the_service(admin_client, workspace, django_capture_on_commit_callbacks):
    job = _failed_job(workspace)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        admin_client.post(reverse("admin:jobs_job_changelist"), {"action": "retry_jobs", "_selected_action": [job.pk]})
    job.refresh_from_db()
    assert job.status == "queued" and job.attempts == 0 and job.error_message == ""
    event = AuditEvent.objects.get(action="job.retried", object_id=str(job.pk))
    assert event.data["before"]["error"] == "CUDA error: device-side assert"
    assert len(callbacks) == 1  # the job's message is sent once the retry commits


def test_retrying_a_succeeded_job_is_refused_with_a_message(admin_client, workspace):
    job = jobs.job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "x"})
    response = admin_client.post(reverse("admin:jobs_job_changelist"), {"action": "retry_jobs", "_selected_action": [job.pk]}, follow=True)
    assert "Cannot retry" in response.content.decode()
    assert Job.objects.get(pk=job.pk).status == "queued"
    assert not AuditEvent.objects.filter(action="job.retried").exists()


def test_api_key_added_in_admin_is_hashed_audited_and_shown_once(admin_client, workspace):
    response = admin_client.post(reverse("admin:accounts_apikey_add"), {
        "workspace": workspace.pk, "name": "cms", "scopes": [Scope.CONTENT_READ], "expires_at_0": "", "expires_at_1": ""}, follow=True)
    key = ApiKey.objects.get()
    page = response.content.decode()
    assert f"pr_{key.prefix}_" in page
    assert key.secret_hash not in page and len(key.secret_hash) == 64
    assert AuditEvent.objects.filter(action="api_key.created", object_id=str(key.pk)).exists()


def test_audit_events_are_read_only_and_exportable(admin_client, workspace):
    _failed_job(workspace)
    event = AuditEvent.objects.first()
    assert admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert admin_client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    response = admin_client.post(reverse("admin:audit_auditevent_changelist"), {
        "action": "export_jsonl", "_selected_action": list(AuditEvent.objects.values_list("pk", flat=True))})
    rows = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert [row["action"] for row in rows] == ["job.created", "job.started", "job.failed"]
    assert all(row["hash"] for row in rows)


def test_artifact_admin_shows_a_preview(admin_client, workspace):
    from pressroom.plugins import ArtifactDraft

    from tests.safety.conftest import PROVENANCE

    job = jobs.job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "x"})
    jobs.job_start(job=job, worker="w1")
    jobs.job_succeed(job=job, drafts=[ArtifactDraft(kind="text", variant_index=0, text="Fresh coffee daily", params={}, provenance=PROVENANCE)], actor=SYSTEM)
    page = admin_client.get(reverse("admin:jobs_artifact_changelist")).content.decode()
    assert "Fresh coffee daily" in page


def test_status_page_lists_models_queues_and_recent_workers(admin_client, workspace, settings):
    jobs.job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "x"})
    worker_heartbeat_record(name="gpu0@host", queues=["gpu.text"], pid=42)
    worker_heartbeat_record(name="gpu0@host", loaded_models=["text-default"], devices=["cuda:0"])
    page = admin_client.get(reverse("pressroom-status")).content.decode()
    assert "text-default" in page and "image-default" in page
    assert "gpu0@host" in page and "cuda:0" in page and "yes, on gpu0@host" in page
    assert "<td>gpu.text</td>" in page
    assert "broker unreachable" not in page  # an idle Redis queue has no key: it is empty, not down


def test_heartbeats_of_several_pool_processes_add_up(workspace):
    from pressroom.jobs.models import WorkerHeartbeat

    worker_heartbeat_record(name="w@h", loaded_models=["text-default"], devices=["cpu"])
    worker_heartbeat_record(name="w@h", loaded_models=["embed-default"], devices=["cpu"])
    assert WorkerHeartbeat.objects.get(name="w@h").loaded_models == ["embed-default", "text-default"]


def test_view_only_staff_get_no_state_changing_actions(client, workspace):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    staff = UserFactory(username="viewonly", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_artifact", "view_job", "view_apikey"]))
    client.force_login(staff)
    for name in ("admin:jobs_artifact_changelist", "admin:jobs_job_changelist", "admin:accounts_apikey_changelist"):
        page = client.get(reverse(name)).content.decode()
        for action in ("publish", "approve", "reject", "cancel_jobs", "retry_jobs", "revoke"):
            assert f'value="{action}"' not in page, (name, action)
    job = _failed_job(workspace)
    client.post(reverse("admin:jobs_job_changelist"), {"action": "retry_jobs", "_selected_action": [job.pk]})
    assert Job.objects.get(pk=job.pk).status == "failed"
    assert client.get(reverse("pressroom-status")).status_code == 403


def test_membership_user_and_workspace_are_fixed_once_created(admin_client, workspace):
    from pressroom.accounts.models import Membership

    from tests.factories import member

    member(workspace, "editor", "ed")
    membership = Membership.objects.get()
    page = admin_client.get(reverse("admin:accounts_membership_change", args=[membership.pk])).content.decode()
    assert 'name="user"' not in page and 'name="workspace"' not in page and 'name="role"' in page


def test_status_page_renders_when_the_broker_is_down(admin_client, settings):
    from pressroom.celery import app

    previous = app.conf.broker_read_url
    app.conf.broker_read_url = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        page = admin_client.get(reverse("pressroom-status")).content.decode()
    finally:
        app.conf.broker_read_url = previous
    assert "broker unreachable" in page


def test_admin_actor_is_recorded(admin_client, admin_user, workspace):
    job = _failed_job(workspace)
    admin_client.post(reverse("admin:jobs_job_changelist"), {"action": "retry_jobs", "_selected_action": [job.pk]})
    event = AuditEvent.objects.get(action="job.retried")
    assert event.actor_label == admin_user.get_username() and event.actor_type == Actor.for_user(admin_user).type
