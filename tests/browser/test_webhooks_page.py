"""A workspace admin registers a webhook in chromium, copies its secret (shown once) and pings it."""
import pytest
from playwright.sync_api import expect
from pressroom.accounts.models import Role
from pressroom.publishing.models import WebhookDelivery, WebhookEndpoint

from tests.factories import WorkspaceFactory, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CMS_URL = "https://93.184.216.34/pressroom-hooks"  # a public address literal: accepted without DNS


@pytest.fixture
def workspace_with_admin():
    workspace = WorkspaceFactory(name="Northwind Outdoor", slug="northwind")
    member(workspace, Role.ADMIN, "ada")
    return workspace


def test_admin_creates_a_webhook_sees_the_secret_once_and_pings_it(workspace_with_admin, open_page, screenshot):
    admin = open_page("ada")
    admin.get_by_role("navigation", name="Workspace").get_by_role("link", name="Webhooks").click()
    expect(admin.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()

    admin.get_by_label("URL").fill(CMS_URL)
    admin.get_by_label("artifact.published").check()
    admin.get_by_label("job.failed").check()
    admin.get_by_label("Description").fill("Storefront CMS")
    admin.get_by_role("button", name="Create webhook").click()

    secret = admin.locator("#new-secret")
    expect(secret).to_be_visible()
    endpoint = WebhookEndpoint.objects.get(workspace=workspace_with_admin)
    expect(secret).to_have_text(endpoint.secret)
    expect(admin.get_by_text("shown only this once")).to_be_visible()
    screenshot(admin, "webhooks")

    admin.reload()
    expect(admin.locator("code.webhook-url", has_text=CMS_URL)).to_be_visible()
    expect(admin.locator("#new-secret")).to_have_count(0)
    assert endpoint.secret not in admin.content()

    admin.get_by_role("button", name=f"Ping {CMS_URL}").click()
    expect(admin.get_by_text("Ping sent")).to_be_visible()
    ping = WebhookDelivery.objects.get(endpoint=endpoint, event="ping")
    expect(admin.get_by_text(f"Ping sent (delivery {ping.pk})")).to_be_visible()
    admin.get_by_role("link", name=f"Deliveries of {CMS_URL}").click()
    expect(admin.locator(f"#delivery-{ping.pk}")).to_contain_text("Pending")
