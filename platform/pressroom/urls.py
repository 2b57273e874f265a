from django.contrib import admin
from django.urls import include, path

from pressroom.core.admin_views import status_view
from pressroom.core.views import artifact_file, artifact_file_signed, healthz, metrics_view

urlpatterns = [
    path("admin/status/", admin.site.admin_view(status_view), name="pressroom-status"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("api/v1/", include("pressroom.api.urls")),
    # Artifact files, by artifact id (never by path); see pressroom.jobs.media.
    path("media/artifacts/<uuid:artifact_id>/<str:filename>", artifact_file, name="artifact-file"),
    path("media/signed/<str:token>/<str:filename>", artifact_file_signed, name="artifact-file-signed"),
    path("", include("pressroom.dashboard.urls")),
]

handler404 = "pressroom.api.errors.json_404"
handler500 = "pressroom.api.errors.json_500"
