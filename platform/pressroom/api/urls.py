from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from pressroom.api import views
from pressroom.api.permissions import SignedIn
from pressroom.usage.api import UsageView
from pressroom.campaigns.api import CampaignViewSet
from pressroom.schedules.api import CampaignScheduleViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("use-cases", views.UseCaseViewSet, basename="use-case")
router.register("jobs", views.JobViewSet, basename="job")
router.register("artifacts", views.ArtifactViewSet, basename="artifact")
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")
router.register("webhooks", views.WebhookViewSet, basename="webhook")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("campaign-schedules", CampaignScheduleViewSet, basename="campaign-schedule")

app_name = "api"
urlpatterns = [
    path("plugins/", views.PluginListView.as_view(), name="plugins"),
    path("published/", views.PublishedFeedView.as_view(), name="published"),
    path("safety-policy/", views.SafetyPolicyView.as_view(), name="safety-policy"),
    path("usage/", UsageView.as_view(), name="usage"),
    # The API's description is no workspace's data: any signed-in user or API key reads it.
    path("schema/", SpectacularAPIView.as_view(permission_classes=[SignedIn]), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema", permission_classes=[SignedIn]), name="docs"),
    path("", include(router.urls)),
]
