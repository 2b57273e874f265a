from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from pressroom.core.views import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("pressroom.api.urls")),
    # Artifact files. Behind a real deployment a web server or object storage serves these.
    path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}),
]

handler404 = "pressroom.api.errors.json_404"
handler500 = "pressroom.api.errors.json_500"
