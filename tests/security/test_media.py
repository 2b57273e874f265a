"""Artifact files are found by the artifact's id and authorised through the Access: no
path trick reaches another workspace's file, and CMS links are signed and expiring."""

import pytest
from django.test import Client

from pressroom.jobs.media import artifact_signed_url
from tests.security.conftest import PNG, signed_in, with_key

pytestmark = pytest.mark.django_db(transaction=True)


def traversal_paths(a, b) -> list[str]:
    """Paths that start in A's files and climb into B's, in the encodings an attacker tries,
    for the old layout (artifacts/<workspace>/<job>/<file>) and for the id-based one."""
    old_a, old_b = f"artifacts/{a.workspace_id}", f"{b.workspace_id}/{b.job_id}/variant-5.png"
    new_a, new_b = f"artifacts/{a.pk}", f"{b.pk}/variant-5.png"
    paths = []
    for start, target in ((old_a, old_b), (new_a, new_b)):
        paths += [
            f"/media/{start}/../{target}",
            f"/media/{start}/%2e%2e/{target}",
            f"/media/{start}/..%2f{target}",
            f"/media/{start}/x/../../{target}",
            f"/media/{start}//../{target}",
            f"/media/{start}/./../{target}",
        ]
    return paths


def test_every_traversal_encoding_is_a_404_with_a_key_and_with_a_session(tenants):
    alpha, bravo = tenants
    callers = {"key": with_key(alpha.token), "viewer session": signed_in(alpha.viewer)}
    leaks = []
    for name, client in callers.items():
        assert client.get(alpha.image.file_url).status_code == 200  # the caller can read its own file
        for path in traversal_paths(alpha.image, bravo.image):
            response = client.get(path)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            if response.status_code != 404 or PNG in body:
                leaks.append((name, path, response.status_code))
    assert leaks == []


def test_files_are_served_by_id_to_members_and_keys_with_content_read_only(tenants):
    alpha, bravo = tenants
    response = signed_in(alpha.viewer).get(alpha.image.file_url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert signed_in(alpha.viewer).get(bravo.image.file_url).status_code == 404
    assert with_key(alpha.token).get(bravo.image.file_url).status_code == 404
    assert Client().get(alpha.image.file_url).status_code == 404
    # The right id with another file name is not a way around the lookup.
    assert signed_in(alpha.viewer).get(alpha.image.file_url.replace("variant-5.png", "variant-0.png")).status_code == 404


def _approved_image(tenant):
    from pressroom.jobs.services import artifact_approve
    from tests.factories import access_of

    return artifact_approve(artifact=tenant.image, access=access_of(tenant.admin, tenant.workspace))


def test_signed_links_serve_approved_files_without_a_key_until_they_expire(tenants, settings):
    alpha, bravo = tenants
    unapproved = artifact_signed_url(alpha.image)
    assert Client().get(unapproved).status_code == 404  # screened is not approved
    url = artifact_signed_url(_approved_image(alpha))
    assert Client().get(url).status_code == 200
    forged = url.replace(str(alpha.image.pk)[:4], "0000") if str(alpha.image.pk)[:4] in url else url[:-20] + "A" * 20
    assert Client().get(forged).status_code == 404
    assert Client().get(url.replace("variant-5.png", "other.png")).status_code == 404
    expired = artifact_signed_url(alpha.image, seconds=-1)
    assert Client().get(expired).status_code == 404
    token = url.split("/")[3]
    assert Client().get(f"/media/signed/{token}/../{bravo.image.pk}/variant-5.png").status_code == 404


def test_production_hands_the_file_to_the_web_server(tenants, settings):
    alpha, _ = tenants
    settings.PRESSROOM = {**settings.PRESSROOM, "MEDIA_SERVE_MODE": "x-accel-redirect"}
    response = with_key(alpha.token).get(alpha.image.file_url)
    assert response.status_code == 200 and response["X-Accel-Redirect"].endswith(alpha.image.file.name)
    assert response.content == b""


def test_the_api_gives_an_id_based_url_and_a_signed_link_once_approved(tenants):
    alpha, _ = tenants
    before = with_key(alpha.token).get(f"/api/v1/artifacts/{alpha.image.pk}/").json()
    assert before["file_url"].endswith(alpha.image.file_url) and before["signed_file_url"] is None
    _approved_image(alpha)
    body = with_key(alpha.token).get(f"/api/v1/artifacts/{alpha.image.pk}/").json()
    assert Client().get(body["signed_file_url"].removeprefix("http://testserver")).status_code == 200


def test_forged_or_malformed_tokens_are_a_404(tenants):
    from django.core import signing

    from pressroom.jobs.media import SIGNING_SALT

    alpha, _ = tenants
    for claims in ({"a": "zzz", "e": "x"}, {"a": str(alpha.image.pk)}, ["a", 1], {"e": 10**12}):
        token = signing.dumps(claims, salt=SIGNING_SALT, compress=True)
        assert Client().get(f"/media/signed/{token}/variant-5.png").status_code == 404
    assert Client().get("/media/signed/not-a-token/variant-5.png").status_code == 404


def test_object_storage_redirects_to_the_storage_url_after_authorising(tenants, settings):
    from django.core.files.base import ContentFile
    from django.core.files.storage import InMemoryStorage

    from pressroom.jobs.media import artifact_file_response

    alpha, _ = tenants
    storage = InMemoryStorage(base_url="https://bucket.example.com/")
    alpha.image.file.storage = storage
    storage.save(alpha.image.file.name, ContentFile(PNG))
    response = artifact_file_response(alpha.image)
    assert response.status_code == 302 and response["Location"] == f"https://bucket.example.com/{alpha.image.file.name}"
