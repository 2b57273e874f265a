"""Campaigns through their services, on PostgreSQL: accepted whole or not at all."""
import pytest

from pressroom.accounts.access import Access
from pressroom.accounts.models import Role
from pressroom.audit.models import AuditEvent
from pressroom.audit.verification import audit_chain_verify
from pressroom.campaigns.events import campaign_finish_if_done
from pressroom.campaigns.models import Campaign
from pressroom.campaigns.rows import CampaignRowsInvalid, rows_from_text
from pressroom.campaigns.services import campaign_artifacts_approve, campaign_cancel, campaign_create
from pressroom.core.errors import InputInvalid, InvalidTransition, NotAllowed
from pressroom.jobs import services as job_services
from pressroom.jobs.services import artifacts_screen
from pressroom.jobs.models import Artifact, Job, JobDispatch
from pressroom.jobs.validation import use_case_get
from pressroom.plugins import ArtifactDraft, ModelProvenance
from pressroom.publishing.models import WebhookDelivery, WebhookEndpoint
from pressroom.safety.services import safety_policy_update
from tests.factories import access_of, member

pytestmark = pytest.mark.django_db


def prompts(count):
    return [{"prompt": f"Write a tagline for shop number {n}"} for n in range(count)]


def test_a_campaign_creates_one_queued_job_per_row_with_outbox_rows_and_audit(workspace):
    campaign = campaign_create(access=Access.system(workspace), use_case_key="core.text", rows=prompts(25), name="Shops")
    jobs = list(campaign.jobs.order_by("campaign_row"))
    assert [job.campaign_row for job in jobs] == list(range(1, 26))
    assert {job.status for job in jobs} == {"queued"} and {job.priority for job in jobs} == {3}
    assert jobs[4].input["prompt"] == "Write a tagline for shop number 4"
    assert JobDispatch.objects.filter(job__campaign=campaign).count() == 25
    actions = list(AuditEvent.objects.filter(workspace=workspace).order_by("sequence").values_list("action", flat=True))
    assert actions == ["campaign.created"] + ["job.created"] * 25
    assert len({job.base_seed for job in jobs}) > 1


def test_bulk_audit_events_keep_one_verifiable_chain_between_single_writes(workspace):
    access = Access.system(workspace)
    job_services.job_create(access=access, use_case_key="core.text", input={"prompt": "before"})
    campaign_create(access=access, use_case_key="core.text", rows=prompts(30))
    job_services.job_create(access=access, use_case_key="core.text", input={"prompt": "after"})
    sequences = list(AuditEvent.objects.filter(workspace=workspace).order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, 34))
    report = audit_chain_verify(workspace_id=workspace.pk)
    assert report.problem is None and report.events == 33


def test_one_invalid_row_refuses_the_whole_campaign_with_a_row_report(workspace):
    rows = prompts(5)
    rows[2] = {"prompt": ""}
    rows[4] = {"prompt": "ok", "colour": "red"}
    with pytest.raises(CampaignRowsInvalid) as refused:
        campaign_create(access=Access.system(workspace), use_case_key="core.text", rows=rows)
    report = [error.as_dict() for error in refused.value.row_errors]
    assert [(e["row"], e["field"]) for e in report] == [(3, "prompt"), (5, "colour")]
    assert all(e["message"] for e in report)
    assert not Campaign.objects.exists() and not Job.objects.exists() and not AuditEvent.objects.exists()


def test_a_blocked_row_refuses_the_campaign_and_the_refusal_is_audited(workspace):
    access = Access.system(workspace)
    safety_policy_update(access=access, banned_terms=["miracle cure"])
    rows = prompts(3) + [{"prompt": "Sell our miracle cure"}]
    with pytest.raises(CampaignRowsInvalid) as refused:
        campaign_create(access=access, use_case_key="core.text", rows=rows)
    assert [(e.row, e.field) for e in refused.value.row_errors] == [(4, "prompt")]
    assert "miracle cure" in refused.value.row_errors[0].message
    assert not Job.objects.exists()
    assert AuditEvent.objects.filter(action="campaign.input_blocked").count() == 1


@pytest.mark.parametrize("rows, message", [
    ([], "no rows"), ("prompt", "must be a list"), ([{"prompt": "x"}, "y"], "not objects"),
])
def test_malformed_rows_are_refused(workspace, rows, message):
    with pytest.raises(InputInvalid, match=message):
        campaign_create(access=Access.system(workspace), use_case_key="core.text", rows=rows)


def test_more_rows_than_the_limit_are_refused(workspace, settings):
    settings.PRESSROOM = {**settings.PRESSROOM, "CAMPAIGN_MAX_ROWS": 10}
    with pytest.raises(InputInvalid, match="Too many rows"):
        campaign_create(access=Access.system(workspace), use_case_key="core.text", rows=prompts(11))


def test_a_viewer_cannot_create_a_campaign(workspace):
    viewer = access_of(member(workspace, Role.VIEWER, "viewer"), workspace)
    with pytest.raises(NotAllowed):
        campaign_create(access=viewer, use_case_key="core.text", rows=prompts(2))


def _finish(job, ok=True, text=None):
    job_services.job_start(job=job, worker="w")
    if ok:
        provenance = ModelProvenance(alias="text-default", source="/m", revision="sha256:x")
        draft = ArtifactDraft(kind="text", variant_index=0, text=text or f"Copy {job.campaign_row}", params={},
                              provenance=provenance)
        job_services.job_succeed(job=job, drafts=[draft])
    else:
        job_services.job_fail(job=job, error="model exploded")


def test_the_last_finished_job_finishes_the_campaign_once_with_a_webhook(workspace):
    WebhookEndpoint.objects.create(workspace=workspace, url="https://cms.example.com/hook", events=["campaign.finished"])
    campaign = campaign_create(access=Access.system(workspace), use_case_key="core.text", rows=prompts(3))
    first, second, third = campaign.jobs.order_by("campaign_row")
    _finish(first)
    _finish(second, ok=False)
    campaign.refresh_from_db()
    assert campaign.finished_at is None
    _finish(third)
    campaign.refresh_from_db()
    assert campaign.finished_at is not None
    delivery = WebhookDelivery.objects.get(event="campaign.finished")
    assert delivery.payload["data"]["succeeded"] == 2 and delivery.payload["data"]["failed"] == 1
    assert AuditEvent.objects.filter(action="campaign.finished").count() == 1
    assert campaign_finish_if_done(campaign) is False  # never twice


def test_retrying_a_job_reopens_its_finished_campaign(workspace):
    access = Access.system(workspace)
    campaign = campaign_create(access=access, use_case_key="core.text", rows=prompts(1))
    job = campaign.jobs.get()
    _finish(job, ok=False)
    campaign.refresh_from_db()
    assert campaign.finished_at is not None
    job_services.job_retry(job=job, access=access)
    campaign.refresh_from_db()
    assert campaign.finished_at is None


def test_cancel_stops_queued_jobs_and_asks_running_ones_to_stop(workspace):
    access = Access.system(workspace)
    campaign = campaign_create(access=access, use_case_key="core.text", rows=prompts(4))
    running = campaign.jobs.get(campaign_row=1)
    job_services.job_start(job=running, worker="w")
    assert campaign_cancel(campaign=campaign, access=access) == {"queued_cancelled": 3, "running_asked_to_stop": 1}
    assert campaign.jobs.filter(status="cancelled").count() == 3
    assert not JobDispatch.objects.filter(job__campaign=campaign, job__status="cancelled").exists()
    assert job_services.job_stop_if_requested(job=running) is True
    campaign.refresh_from_db()
    assert campaign.finished_at is not None
    with pytest.raises(InvalidTransition):
        campaign_cancel(campaign=campaign, access=access)


def test_bulk_approval_takes_what_passed_and_never_what_was_blocked(workspace):
    access = Access.system(workspace)
    safety_policy_update(access=access, banned_terms=["miracle cure"], competitor_names=["Acme"])
    campaign = campaign_create(access=access, use_case_key="core.text", rows=prompts(3))
    texts = {1: "Fresh bread every morning.", 2: "Better than Acme bread.", 3: "Our bread is a miracle cure."}
    for job in campaign.jobs.all():
        _finish(job, text=texts[job.campaign_row])
    artifacts = {a.job.campaign_row: a for a in Artifact.objects.filter(job__campaign=campaign).select_related("job")}
    artifacts_screen(artifact_ids=[a.pk for a in artifacts.values()])
    statuses = {row: Artifact.objects.get(pk=a.pk).status for row, a in artifacts.items()}
    assert statuses == {1: "passed", 2: "flagged", 3: "blocked"}
    reviewer = access_of(member(workspace, Role.REVIEWER, "reviewer"), workspace)
    assert campaign_artifacts_approve(campaign=campaign, access=reviewer) == 1
    assert Artifact.objects.get(pk=artifacts[1].pk).status == "approved"
    with pytest.raises(InvalidTransition):
        campaign_artifacts_approve(campaign=campaign, access=reviewer, artifact_ids=[artifacts[3].pk])
    assert campaign_artifacts_approve(campaign=campaign, access=reviewer, artifact_ids=[artifacts[2].pk]) == 1
    assert Artifact.objects.get(pk=artifacts[2].pk).reviewed_by.username == "reviewer"
    assert Artifact.objects.get(pk=artifacts[3].pk).status == "blocked"


def test_csv_rows_are_parsed_by_the_fields_types():
    use_case = use_case_get("marketing.ad_copy")
    text = "product,channels,offer,variants\nTrail X2,search; social,20% off,1\n\"Road, fast\",\"[\"\"display\"\"]\",,2\n"
    rows = rows_from_text(text, "csv", use_case)
    assert rows == [{"product": "Trail X2", "channels": ["search", "social"], "offer": "20% off", "variants": "1"},
                    {"product": "Road, fast", "channels": ["display"], "variants": "2"}]


def test_csv_object_cells_take_pairs_or_json_and_say_what_is_wrong():
    use_case = use_case_get("marketing.product_description")
    ok = rows_from_text('name,attributes\nScarf,material: wool; colour: red\nHat,"{""size"": ""M""}"\n', "csv", use_case)
    assert ok[0]["attributes"] == {"material": "wool", "colour": "red"} and ok[1]["attributes"] == {"size": "M"}
    with pytest.raises(CampaignRowsInvalid) as refused:
        rows_from_text("name,attributes\nScarf,just wool\n", "csv", use_case)
    assert refused.value.row_errors[0].row == 1 and refused.value.row_errors[0].field == "attributes"


def test_jsonl_lines_that_are_not_objects_are_reported_by_line():
    use_case = use_case_get("core.text")
    with pytest.raises(CampaignRowsInvalid) as refused:
        rows_from_text('{"prompt": "a"}\n\n[1]\n{"prompt": \n', "jsonl", use_case)
    assert [e.row for e in refused.value.row_errors] == [3, 4]


def test_csv_rows_with_the_wrong_number_of_cells_are_reported():
    with pytest.raises(CampaignRowsInvalid) as refused:
        rows_from_text("prompt\na\nb,c\n", "csv", use_case_get("core.text"))
    assert refused.value.row_errors[0].row == 2


def test_queue_positions_and_fair_priority_count_a_bounded_part_of_a_flood(workspace):
    from pressroom.jobs.dispatch import fair_priority
    from pressroom.jobs.selectors import QUEUE_POSITION_LIMIT, job_queue_position

    access = Access.system(workspace)
    campaign_create(access=access, use_case_key="core.text", rows=prompts(QUEUE_POSITION_LIMIT + 200), priority=5)
    late = job_services.job_create(access=access, use_case_key="core.text", input={"prompt": "late"})
    assert job_queue_position(late) == QUEUE_POSITION_LIMIT  # "100 or more"
    assert fair_priority(late) == 0  # 1200 ahead in its own workspace: as low as it goes
    urgent = job_services.job_create(access=access, use_case_key="core.text", input={"prompt": "urgent"}, priority=9)
    assert job_queue_position(urgent) == 1
    first_row = Job.objects.get(campaign_row=3)
    assert job_queue_position(first_row) == 2 + 1 + 1  # rows 1 and 2, and the urgent job
    assert fair_priority(first_row) == 5 - 2  # two of its workspace's jobs ahead: bit length 2
