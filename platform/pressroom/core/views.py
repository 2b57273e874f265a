from django.conf import settings
from django.db import connection
from django.views.static import serve
from django.http import JsonResponse


def healthz(request):
    """Liveness plus a database round trip, for load balancers and the run script."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def media(request, path: str):
    """Artifact files (embedded set-up). Behind a real deployment a web server or object
    storage serves these; MEDIA_ROOT is read per request so it can be reconfigured."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)
