"""The API's schema and docs describe the API, not a workspace's data: any signed-in user
(a superuser before any workspace exists, a member of several) or API key reads them."""
import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db
PAGES = ("/api/v1/schema/", "/api/v1/docs/")


def _signed_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.mark.parametrize("page", PAGES)
def test_a_superuser_without_a_workspace_reads_them(page):
    root = get_user_model().objects.create_superuser("root", "root@example.com", "correct horse battery staple")
    assert _signed_in(root).get(page).status_code == 200


@pytest.mark.parametrize("page", PAGES)
def test_a_user_of_several_workspaces_or_none_reads_them(page):
    several = UserFactory(username="several")
    MembershipFactory(user=several, workspace=WorkspaceFactory())
    MembershipFactory(user=several, workspace=WorkspaceFactory())
    assert _signed_in(several).get(page).status_code == 200
    assert _signed_in(UserFactory(username="nobody")).get(page).status_code == 200


@pytest.mark.parametrize("page", PAGES)
def test_an_api_key_with_any_scope_reads_them(make_client, workspace, page):
    assert make_client(workspace, scopes=["content:read"]).get(page).status_code == 200


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_callers_are_refused(page):
    assert APIClient().get(page).status_code in (401, 403)
    bad_key = APIClient()
    bad_key.credentials(HTTP_AUTHORIZATION="Bearer pr_nothing_here")
    assert bad_key.get(page).status_code == 401
