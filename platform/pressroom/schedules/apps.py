from django.apps import AppConfig


class SchedulesConfig(AppConfig):
    name = "pressroom.schedules"
    label = "schedules"
    verbose_name = "Schedules"

    def ready(self) -> None:
        from pressroom.accounts.services import workspace_time_zone_changed
        from pressroom.audit.registry import audit_actions
        from pressroom.schedules.services import campaign_schedules_follow_time_zone

        for name, label in {
            "campaign_schedule.created": "Recurring campaign created",
            "campaign_schedule.updated": "Recurring campaign changed",
            "campaign_schedule.deleted": "Recurring campaign deleted",
            "campaign_schedule.ran": "Recurring campaign ran (campaign created)",
            "campaign_schedule.run_failed": "Recurring campaign run failed",
        }.items():
            audit_actions.register(name, label)
        workspace_time_zone_changed.connect(campaign_schedules_follow_time_zone, dispatch_uid="schedules-follow-time-zone")
