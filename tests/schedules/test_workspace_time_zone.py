"""Workspace.time_zone: a zoneinfo name, UTC by default, changed by its admins (audited)
in the services and the admin."""
import pytest
from django.urls import reverse

from pressroom.accounts.access import Access
from pressroom.accounts.models import Role, Workspace
from pressroom.accounts.services import workspace_create, workspace_update
from pressroom.audit.models import AuditEvent
from pressroom.core.errors import InputInvalid, NotAllowed
from tests.factories import access_of, member

pytestmark = pytest.mark.django_db


def test_time_zones_are_zoneinfo_names_changed_by_admins_and_audited(workspace):
    assert workspace.time_zone == "UTC"
    for bad in ("Mars/Olympus", "", "../etc/passwd", "utc+2"):
        with pytest.raises(InputInvalid):
            workspace_update(access=Access.system(workspace), time_zone=bad)
    with pytest.raises(NotAllowed):
        workspace_update(access=access_of(member(workspace, Role.REVIEWER, "rita"), workspace), time_zone="Europe/Rome")
    workspace_update(access=Access.system(workspace), time_zone="Europe/Rome")
    assert Workspace.objects.get(pk=workspace.pk).time_zone == "Europe/Rome"
    event = AuditEvent.objects.get(workspace=workspace, action="workspace.time_zone_changed")
    assert event.data == {"before": "UTC", "after": "Europe/Rome"}
    assert not AuditEvent.objects.filter(workspace=workspace, action="workspace.renamed").exists()
    with pytest.raises(InputInvalid):
        workspace_create(name="Nowhere", time_zone="Nowhere/Land")


def test_the_admin_edits_the_time_zone_and_keeps_it_when_left_empty(admin_client):
    admin_client.post(reverse("admin:accounts_workspace_add"), {"name": "Delta", "slug": "delta", "time_zone": "Asia/Kolkata"})
    delta = Workspace.objects.get(slug="delta")
    assert delta.time_zone == "Asia/Kolkata"
    change = reverse("admin:accounts_workspace_change", args=[delta.pk])
    admin_client.post(change, {"name": "Delta Team"})  # no time zone in the post: it stays
    assert Workspace.objects.get(pk=delta.pk).time_zone == "Asia/Kolkata"
    admin_client.post(change, {"name": "Delta Team", "time_zone": "America/Sao_Paulo"})
    assert Workspace.objects.get(pk=delta.pk).time_zone == "America/Sao_Paulo"
    page = admin_client.post(change, {"name": "Delta Team", "time_zone": "Nowhere/Land"}).content.decode()
    assert "Select a valid choice" in page
    assert Workspace.objects.get(pk=delta.pk).time_zone == "America/Sao_Paulo"
