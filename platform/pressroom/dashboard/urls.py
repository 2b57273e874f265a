from django.contrib.auth import views as auth_views
from django.urls import path

from pressroom.dashboard import campaign_views, views
from pressroom.dashboard import first_run_views, webhook_views

app_name = "dashboard"

workspace = "w/<slug:slug>/"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="dashboard/login.html", redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("switch/", views.switch_workspace, name="switch"),
    path("first-run/", first_run_views.first_run, name="first_run"),
    path(workspace, views.catalogue, name="catalogue"),
    path(workspace + "new/<str:key>/", views.job_new, name="job_new"),
    path(workspace + "new/<str:key>/validate/", views.job_validate, name="job_validate"),
    path(workspace + "jobs/", views.job_index, name="jobs"),
    path(workspace + "jobs/<uuid:job_id>/", views.job_detail, name="job"),
    path(workspace + "jobs/<uuid:job_id>/live/", views.job_live, name="job_live"),
    path(workspace + "jobs/<uuid:job_id>/audit/", views.job_audit, name="job_audit"),
    path(workspace + "jobs/<uuid:job_id>/cancel/", views.job_cancel_view, name="job_cancel"),
    path(workspace + "review/", views.review, name="review"),
    path(workspace + "usage/", views.usage, name="usage"),
    path(workspace + "campaigns/", campaign_views.campaign_index, name="campaigns"),
    path(workspace + "campaigns/new/", campaign_views.campaign_new, name="campaign_new"),
    path(workspace + "campaigns/new/columns/", campaign_views.campaign_columns, name="campaign_columns"),
    path(workspace + "campaigns/example/<str:key>.csv", campaign_views.campaign_example, name="campaign_example"),
    path(workspace + "campaigns/<uuid:campaign_id>/", campaign_views.campaign_detail, name="campaign"),
    path(workspace + "campaigns/<uuid:campaign_id>/live/", campaign_views.campaign_live, name="campaign_live"),
    path(workspace + "campaigns/<uuid:campaign_id>/cancel/", campaign_views.campaign_cancel_view, name="campaign_cancel"),
    path(workspace + "campaigns/<uuid:campaign_id>/approve/", campaign_views.campaign_approve_view, name="campaign_approve"),
    path(workspace + "campaigns/<uuid:campaign_id>/export/<str:fmt>/", campaign_views.campaign_export, name="campaign_export"),
    path(workspace + "artifacts/<uuid:artifact_id>/", views.artifact_detail, name="artifact"),
    path(workspace + "artifacts/<uuid:artifact_id>/approve/", views.artifact_review, {"decision": "approve"}, name="artifact_approve"),
    path(workspace + "artifacts/<uuid:artifact_id>/reject/", views.artifact_review, {"decision": "reject"}, name="artifact_reject"),
    path(workspace + "artifacts/<uuid:artifact_id>/edit/", views.artifact_edit_view, name="artifact_edit"),
    path(workspace + "artifacts/<uuid:artifact_id>/publish/", views.artifact_publish_view, name="artifact_publish"),
    path(workspace + "artifacts/<uuid:artifact_id>/schedule/", views.artifact_schedule_view, name="artifact_schedule"),
    path(workspace + "artifacts/<uuid:artifact_id>/unschedule/", views.artifact_unschedule_view, name="artifact_unschedule"),
    path(workspace + "settings/", views.brand_settings, name="settings"),
    path(workspace + "api-keys/", views.api_keys, name="api_keys"),
    path(workspace + "api-keys/<int:key_id>/revoke/", views.api_key_revoke_view, name="api_key_revoke"),
    path(workspace + "webhooks/", webhook_views.webhook_index, name="webhooks"),
    path(workspace + "webhooks/<int:endpoint_id>/", webhook_views.webhook_edit, name="webhook"),
    path(workspace + "webhooks/<int:endpoint_id>/delete/", webhook_views.webhook_delete, name="webhook_delete"),
    path(workspace + "webhooks/<int:endpoint_id>/ping/", webhook_views.webhook_ping_view, name="webhook_ping"),
    path(workspace + "webhooks/<int:endpoint_id>/resume/", webhook_views.webhook_resume_view, name="webhook_resume"),
    path(workspace + "webhooks/<int:endpoint_id>/deliveries/", webhook_views.webhook_deliveries, name="webhook_deliveries"),
]
