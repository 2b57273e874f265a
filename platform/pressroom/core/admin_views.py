"""The operators' status page inside the Django admin."""
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from pressroom.jobs.operations import platform_status


def status_view(request):
    if not request.user.has_perm("jobs.view_workerheartbeat"):
        raise PermissionDenied("The platform status needs the view-worker-heartbeat permission.")
    context = {**admin.site.each_context(request), "title": "Platform status", **platform_status()}
    return TemplateResponse(request, "admin/pressroom_status.html", context)

