"""The Usage page and the API come from one selector and agree with the ledger; the job form
shows a quota refusal; operators edit quotas in the admin."""
import re

import pytest
from django.urls import reverse

from pressroom.audit.models import AuditEvent
from pressroom.jobs.models import Job
from pressroom.usage.metering import Usage
from pressroom.usage.models import Quota
from tests.factories import UserFactory, member
from tests.usage.conftest import ledger_sums


def page_of(client, workspace, **query) -> str:
    response = client.get(reverse("dashboard:usage", args=[workspace.slug]), query)
    assert response.status_code == 200
    return response.content.decode()


def cell(page: str, attribute: str) -> str:
    return re.search(rf'<td {attribute}>(.*?)</td>', page, re.S).group(1).strip()


def test_usage_page_and_api_show_the_ledger_numbers(client, workspace, run_job, set_quota):
    run_job(workspace, Usage(input_tokens=20, output_tokens=8, images=0, model_seconds=0.25))
    run_job(workspace, Usage(input_tokens=10, output_tokens=4, model_seconds=1.5), fail=True)
    set_quota(workspace, model_seconds_per_month=10)
    viewer = member(workspace, "viewer", "vic")
    client.force_login(viewer)
    page = page_of(client, workspace)
    api = client.get("/api/v1/usage/", HTTP_X_PRESSROOM_WORKSPACE=workspace.slug).json()
    ledger = ledger_sums(workspace)
    assert ledger["jobs"] == 2 and ledger["input_tokens"] == 30

    for metric, expected in [("jobs", ledger["jobs"]), ("tokens", ledger["input_tokens"] + ledger["output_tokens"]),
                             ("images", ledger["images"]), ("model_seconds", round(ledger["model_seconds"], 3))]:
        assert cell(page, f'data-total="{metric}"') == str(expected), metric
        assert api["totals"][metric] == expected
    row = re.search(r'<tr data-use-case="core.text">(.*?)</tr>', page, re.S).group(1)
    numbers = re.findall(r"<td>([\d.]+)</td>", row)
    assert numbers == ["2", "30", "12", "0", "0", "1.75"]
    assert api["use_cases"][0]["model_seconds"] == 1.75
    # The limit, its usage and its reset, beside the totals.
    limit = re.search(r'data-limit="model_seconds-month".*?</td>', page, re.S).group(0)
    assert "<span data-value>10</span>" in limit and "1.75" in limit and "UTC" in limit
    assert "unlimited" in re.search(r'data-limit="jobs-day".*?</td>', page, re.S).group(0)
    # Charts are inline SVG with a bar per day of the month, each titled with its value.
    assert page.count('class="chart-bar"') >= 28 + 1
    assert "core.text: 1.8 model-seconds" in page or "core.text: 1.75 model-seconds" in page
    assert 'aria-current="page">Usage</a>' in page


def test_usage_page_charts_another_metric(client, workspace, run_job):
    run_job(workspace, Usage(output_tokens=7))
    client.force_login(member(workspace, "viewer", "vic"))
    page = page_of(client, workspace, metric="tokens")
    assert "Tokens per day" in page and "core.text: 7 tokens" in page
    assert "Model-seconds per day" in page_of(client, workspace, metric="nonsense")


def test_usage_page_is_only_for_members(client, workspace, other_workspace):
    client.force_login(member(other_workspace, "admin", "stranger"))
    assert client.get(reverse("dashboard:usage", args=[workspace.slug])).status_code == 404


def test_the_job_form_shows_the_quota_refusal(client, workspace, set_quota):
    set_quota(workspace, jobs_per_day=0)
    client.force_login(member(workspace, "editor", "ed"))
    response = client.post(reverse("dashboard:job_new", args=[workspace.slug, "core.text"]),
                           {"prompt": "Write a tagline.", "max_new_tokens": "8", "variants": "1", "priority": "5",
                            "temperature": "0"})
    assert response.status_code == 429
    errors = response.context["form"].non_field_errors()
    assert "Quota exceeded" in errors[0] and "0 jobs per day" in errors[0] and "UTC" in errors[0]
    assert "Quota exceeded" in response.content.decode()
    assert not Job.objects.exists()


def test_an_operator_sets_a_quota_in_the_admin_and_it_is_audited(client, workspace):
    operator = UserFactory(username="op", is_staff=True, is_superuser=True)
    client.force_login(operator)
    add = client.post(reverse("admin:usage_quota_add"), {"workspace": workspace.pk, "jobs_per_day": "100",
                                                         "model_seconds_per_month": "3600"})
    assert add.status_code == 302, add.content.decode()[-2000:]
    quota = Quota.objects.get(workspace=workspace)
    assert (quota.jobs_per_day, quota.model_seconds_per_month, quota.tokens_per_day) == (100, 3600, None)
    change = client.post(reverse("admin:usage_quota_change", args=[quota.pk]), {"jobs_per_day": "", "images_per_day": "5"})
    assert change.status_code == 302
    quota.refresh_from_db()
    assert (quota.jobs_per_day, quota.images_per_day) == (None, 5)
    events = AuditEvent.objects.filter(workspace=workspace, action="workspace.quota_changed").order_by("sequence")
    assert [e.data["after"]["jobs_per_day"] for e in events] == [100, None]
    assert {e.actor_label for e in events} == {"op"}


def test_staff_who_are_not_operators_cannot_see_or_edit_quotas(client, workspace):
    staff = member(workspace, "admin", "wsadmin")
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    assert client.get(reverse("admin:usage_quota_add")).status_code == 403
    assert client.post(reverse("admin:usage_quota_add"), {"workspace": workspace.pk, "jobs_per_day": "1"}).status_code == 403
    assert not Quota.objects.exists()


@pytest.fixture
def other_workspace(db):
    from tests.factories import WorkspaceFactory

    return WorkspaceFactory()
