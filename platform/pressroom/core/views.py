from django.conf import settings
from django.db import connection
from django.http import Http404, JsonResponse
from django.views.static import serve


def _workspace_of(path: str) -> int | None:
    """Artifacts are stored as artifacts/<workspace id>/<job id>/<file>."""
    parts = path.split("/")
    if len(parts) >= 3 and parts[0] == "artifacts" and parts[1].isdigit():
        return int(parts[1])
    return None


def media_access_allowed(request, path: str) -> bool:
    from pressroom.accounts.models import Membership, Scope
    from pressroom.accounts.services import api_key_authenticate

    workspace_id = _workspace_of(path)
    if workspace_id is None:
        return False
    user = request.user
    if user.is_authenticated:
        return user.is_superuser or Membership.objects.filter(user=user, workspace_id=workspace_id).exists()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    key = api_key_authenticate(token.strip()) if scheme.lower() == "bearer" else None
    return key is not None and key.workspace_id == workspace_id and Scope.CONTENT_READ in key.scopes


def healthz(request):
    """Liveness plus a database round trip, for load balancers and the run script."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def media(request, path: str):
    """Artifact files, to members of the artifact's workspace or its API keys with
    content:read; anyone else gets a 404. (Behind a real deployment, object storage with
    signed URLs serves these.) MEDIA_ROOT is read per request so it can be reconfigured."""
    if not media_access_allowed(request, path):
        raise Http404("No such file.")
    return serve(request, path, document_root=settings.MEDIA_ROOT)
