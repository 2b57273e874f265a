"""Artifact files, found by the artifact's id and never by a path from the URL.

Two ways in: `/media/artifacts/<id>/<name>` for a member of the artifact's workspace or
its API key with content:read (checked through the Access), and
`/media/signed/<token>/<name>` for a CMS that embeds the image: the token is a Django
signature over the artifact id and an expiry, so it needs no key and cannot name another
file. Anything else under /media/ is a 404.
"""
from __future__ import annotations

import mimetypes
import posixpath
import time
import uuid

from django.core import signing
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from pressroom.accounts.access import access_for_request
from pressroom.accounts.models import Scope
from pressroom.conf import pressroom_settings
from pressroom.jobs.models import Artifact

SIGNING_SALT = "pressroom.media.artifact"


def _file_name(artifact: Artifact) -> str:
    return posixpath.basename(artifact.file.name)


def artifact_file_url(artifact: Artifact) -> str:
    return reverse("artifact-file", args=[artifact.pk, _file_name(artifact)])


SIGNABLE_STATUSES = ("approved", "scheduled", "published")


def artifact_signed_url(artifact: Artifact, *, seconds: int | None = None) -> str:
    """A link that serves this artifact's file to anyone holding it, until it expires. Only
    content a person or the policy approved is handed out this way."""
    seconds = pressroom_settings.MEDIA_SIGNED_URL_SECONDS if seconds is None else seconds
    token = signing.dumps({"a": str(artifact.pk), "e": int(time.time()) + seconds}, salt=SIGNING_SALT, compress=True)
    return reverse("artifact-file-signed", args=[token, _file_name(artifact)])


def _artifact_with_file(artifact_id, filename: str) -> Artifact:
    artifact = Artifact.objects.select_related("workspace").filter(pk=artifact_id).exclude(file="").first()
    if artifact is None or filename != _file_name(artifact):
        raise Http404("No such file.")
    return artifact


def artifact_for_request(request, *, artifact_id, filename: str) -> Artifact:
    artifact = _artifact_with_file(artifact_id, filename)
    access = access_for_request(request, workspace=artifact.workspace)
    if access is None or not access.can(Scope.CONTENT_READ):
        raise Http404("No such file.")  # never say whether another workspace has it
    return artifact


def _claims(token: str) -> tuple[uuid.UUID, int]:
    try:
        claims = signing.loads(token, salt=SIGNING_SALT)
        return uuid.UUID(str(claims["a"])), int(claims["e"])
    except (signing.BadSignature, TypeError, KeyError, ValueError):
        raise Http404("No such file.") from None


def artifact_for_token(*, token: str, filename: str) -> Artifact:
    artifact_id, expires = _claims(token)
    if expires < time.time():
        raise Http404("This link has expired.")
    artifact = _artifact_with_file(artifact_id, filename)
    if artifact.status not in SIGNABLE_STATUSES:
        raise Http404("No such file.")  # rejected (or otherwise withdrawn) since the link was made
    return artifact


def absolute(url: str) -> str:
    return pressroom_settings.PUBLIC_URL.rstrip("/") + url


def artifact_file_response(artifact: Artifact) -> HttpResponse:
    """Hand over an authorised artifact's file: a redirect to a pre-signed URL on object
    storage (django-storages, querystring_auth), the web server's internal redirect when
    configured, else the bytes from Django."""
    mode = pressroom_settings.MEDIA_SERVE_MODE
    content_type = mimetypes.guess_type(artifact.file.name)[0] or "application/octet-stream"
    if not isinstance(artifact.file.storage, FileSystemStorage):
        response = HttpResponseRedirect(artifact.file.url)
    elif mode == "x-accel-redirect":
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = pressroom_settings.MEDIA_INTERNAL_PREFIX.rstrip("/") + "/" + artifact.file.name
    elif mode == "x-sendfile":
        response = HttpResponse(content_type=content_type)
        response["X-Sendfile"] = artifact.file.path
    else:
        try:
            response = FileResponse(artifact.file.open("rb"), content_type=content_type)
        except FileNotFoundError:
            raise Http404("No such file.") from None
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
