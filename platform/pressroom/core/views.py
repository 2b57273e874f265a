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


def metrics_view(request):
    """Prometheus exposition: for a scraper with the token, or from an allowed network."""
    from django.http import HttpResponse, HttpResponseForbidden
    from prometheus_client import CONTENT_TYPE_LATEST

    from pressroom.conf import pressroom_settings
    from pressroom.core.metrics import client_allowed, scrape

    if not client_allowed(request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_AUTHORIZATION", ""),
                          pressroom_settings.METRICS_TOKEN, pressroom_settings.METRICS_ALLOWED_NETWORKS):
        return HttpResponseForbidden("Metrics need PRESSROOM_METRICS_TOKEN or an allowed network.\n")
    return HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST)
