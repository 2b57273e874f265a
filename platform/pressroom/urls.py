from django.contrib import admin
from django.urls import include, path

from pressroom.core.admin_views import status_view
from pressroom.core.views import healthz, media

urlpatterns = [
    path("admin/status/", admin.site.admin_view(status_view), name="pressroom-status"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("pressroom.api.urls")),
    # Artifact files. Behind a real deployment a web server or object storage serves these.
    path("media/<path:path>", media),
    path("", include("pressroom.dashboard.urls")),
]

handler404 = "pressroom.api.errors.json_404"
handler500 = "pressroom.api.errors.json_500"
