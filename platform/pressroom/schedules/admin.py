from django import forms
from django.contrib import admin

from pressroom.accounts.admin import ThroughServicesAdmin
from pressroom.accounts.models import Scope
from pressroom.core.admin_actions import WorkspaceScopedAdmin, each_through_service, staff_access
from pressroom.schedules.models import CRON_FIELDS, CampaignSchedule
from pressroom.schedules.services import (
    EDITABLE,
    campaign_schedule_create,
    campaign_schedule_delete,
    campaign_schedule_update,
)


class CampaignScheduleForm(forms.ModelForm):
    class Meta:
        model = CampaignSchedule
        fields = ("workspace", "name", "use_case", "input_rows", *CRON_FIELDS, "enabled")
        help_texts = {
            "input_rows": 'A JSON list of inputs, one job each, e.g. [{"prompt": "A tip for {weekday}, {date}"}]. '
                          "{date}, {weekday} and {month} are filled in at run time in the workspace's time zone.",
            "day_of_week": "0-6 (Sunday 0) or mon-sun.",
        }


@admin.register(CampaignSchedule)
class CampaignScheduleAdmin(ThroughServicesAdmin, WorkspaceScopedAdmin):
    """Recurring campaigns, created, changed and deleted through the services, so their
    celery-beat PeriodicTask (see Periodic tasks) always follows and every change is audited."""

    form = CampaignScheduleForm
    list_display = ("name", "workspace", "use_case", "cron", "time_zone", "enabled", "last_run_at", "last_campaign", "last_error")
    list_filter = ("enabled", "use_case", ("workspace", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "use_case")
    required_scope = Scope.JOBS_WRITE
    actions = ("enable", "disable")

    @admin.display(description="Time zone")
    def time_zone(self, schedule: CampaignSchedule) -> str:
        return schedule.workspace.time_zone

    def get_readonly_fields(self, request, obj=None):
        shown = ("time_zone", "periodic_task", "created_by", "created_at", "updated_at", "last_run_at", "last_campaign", "last_error")
        return ("workspace", *shown) if obj is not None else ()

    def save_model(self, request, obj, form, change) -> None:
        fields = {name: form.cleaned_data[name] for name in EDITABLE if name in form.cleaned_data}
        if change:
            changed = {name: value for name, value in fields.items() if name in form.changed_data}
            self.save_through_service(
                request, lambda: campaign_schedule_update(schedule=obj, access=staff_access(request, obj), **changed))
            return
        obj.pk = self.save_through_service(
            request, lambda: campaign_schedule_create(access=staff_access(request, obj), **fields)).pk

    def delete_model(self, request, obj) -> None:
        self.save_through_service(request, lambda: campaign_schedule_delete(schedule=obj, access=staff_access(request, obj)))

    def delete_queryset(self, request, queryset) -> None:
        each_through_service(self, request, queryset,
                             lambda schedule, access: campaign_schedule_delete(schedule=schedule, access=access), "deleted")

    @admin.action(description="Enable selected schedules", permissions=["change"])
    def enable(self, request, queryset) -> None:
        each_through_service(self, request, queryset,
                             lambda schedule, access: campaign_schedule_update(schedule=schedule, access=access, enabled=True),
                             "enabled")

    @admin.action(description="Disable selected schedules", permissions=["change"])
    def disable(self, request, queryset) -> None:
        each_through_service(self, request, queryset,
                             lambda schedule, access: campaign_schedule_update(schedule=schedule, access=access, enabled=False),
                             "disabled")
