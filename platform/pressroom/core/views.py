from django.db import connection
from django.http import JsonResponse

from pressroom.jobs.media import artifact_file_response, artifact_for_request, artifact_for_token


def healthz(request):
    """Liveness plus a database round trip, for load balancers and the run script."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def artifact_file(request, artifact_id, filename: str):
    """An artifact's file for a member of its workspace or its API key (content:read)."""
    return artifact_file_response(artifact_for_request(request, artifact_id=artifact_id, filename=filename))


def artifact_file_signed(request, token: str, filename: str):
    """An artifact's file through a signed, expiring link (for a CMS to embed)."""
    return artifact_file_response(artifact_for_token(token=token, filename=filename))
