"""A paused webhook endpoint over the API and in the admin: visible, and resumed through
the same service (the deliveries that waited are sent)."""
from django.urls import reverse
from django.utils import timezone

from pressroom.accounts.access import Access
from pressroom.audit.models import AuditEvent
from pressroom.publishing.models import WebhookDelivery, WebhookEndpoint
from pressroom.publishing.services import webhook_endpoint_create, webhook_event_emit


def paused_endpoint(workspace):
    endpoint = webhook_endpoint_create(access=Access.system(workspace), url="https://93.184.216.34/hooks", events=["job.failed"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(paused_at=timezone.now(), consecutive_failures=10,
                                                          pause_reason="10 failed attempts in a row; the last: HTTP 503")
    webhook_event_emit(workspace_id=workspace.pk, event="job.failed", data={"job": "x"})
    return endpoint


def test_the_api_shows_a_paused_endpoint_and_resumes_it(api, workspace):
    endpoint = paused_endpoint(workspace)
    listed = api.get(reverse("api:webhook-list")).json()["results"][0]
    assert listed["paused_at"] and listed["consecutive_failures"] == 10 and "HTTP 503" in listed["pause_reason"]
    resumed = api.post(reverse("api:webhook-resume", args=[endpoint.pk]))
    assert resumed.status_code == 200 and resumed.json() == {"resumed": True, "waiting_deliveries_sent": 1}
    assert api.post(reverse("api:webhook-resume", args=[endpoint.pk])).status_code == 409
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).paused_at is None
    assert AuditEvent.objects.filter(workspace=workspace, action="webhook.resumed").count() == 1
    assert WebhookDelivery.objects.get(endpoint=endpoint).status == "pending"  # sent by a worker; waiting no more


def test_the_admin_lists_paused_endpoints_and_resumes_them(admin_client, workspace):
    endpoint = paused_endpoint(workspace)
    changelist = reverse("admin:publishing_webhookendpoint_changelist")
    page = admin_client.get(changelist + "?paused_at__isempty=0").content.decode()
    assert endpoint.url in page
    admin_client.post(changelist, {"action": "resume", "_selected_action": [endpoint.pk]})
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).paused_at is None
    assert AuditEvent.objects.filter(workspace=workspace, action="webhook.resumed").exists()
