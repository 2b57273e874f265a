from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpResponseRedirect

from pressroom.accounts.models import ApiKey, Membership, Role, Scope, Workspace, time_zone_names
from pressroom.accounts.access import workspaces_for_user
from pressroom.accounts.services import (
    api_key_create,
    api_key_revoke,
    membership_remove,
    membership_set,
    workspace_create,
    workspace_update,
)
from pressroom.audit.services import Actor
from pressroom.core.admin_actions import WorkspaceScopedAdmin, each_through_service, staff_access
from pressroom.core.errors import PressroomError


class ThroughServicesAdmin(admin.ModelAdmin):
    """Saves run through a service; its refusal is shown on the form's page, not a 500."""

    def save_through_service(self, request, save):
        """Run `save` (a service call) and return its result; a refusal becomes a message."""
        try:
            return save()
        except PressroomError as error:
            self.message_user(request, f"Nothing was saved: {error}", messages.ERROR)
            raise _Refused from error

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except _Refused:
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, *args, **kwargs):
        try:
            return super().delete_view(request, *args, **kwargs)
        except _Refused:
            return HttpResponseRedirect(request.get_full_path())


class _Refused(Exception):
    pass


class WorkspaceForm(forms.ModelForm):
    # Left empty, a change keeps the zone it had (UTC for a new workspace).
    time_zone = forms.ChoiceField(required=False, help_text="Schedules run, and the dashboard shows times, in this zone.")

    class Meta:
        model = Workspace
        fields = ("name", "slug", "time_zone")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [("", "---------"), *((name, name) for name in sorted(time_zone_names()))]

    def clean_time_zone(self) -> str:
        return self.cleaned_data["time_zone"] or self.instance.time_zone or "UTC"


@admin.register(Workspace)
class WorkspaceAdmin(ThroughServicesAdmin):
    """Workspaces are created, renamed and moved to another time zone through the services
    (audited). A staff user who creates one becomes its admin."""

    form = WorkspaceForm
    list_display = ("name", "slug", "time_zone", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=workspaces_for_user(user=request.user))

    def get_readonly_fields(self, request, obj=None):
        return ("slug",) if obj is not None else ()

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None else self.prepopulated_fields

    def save_model(self, request, obj, form, change) -> None:
        actor = Actor.for_user(request.user)
        if change:
            self.save_through_service(request, lambda: workspace_update(access=staff_access(request, obj), name=obj.name,
                                                                        time_zone=obj.time_zone))
            return
        owner = None if request.user.is_superuser else request.user
        obj.pk = self.save_through_service(
            request, lambda: workspace_create(name=obj.name, slug=obj.slug, owner=owner, actor=actor, time_zone=obj.time_zone)).pk

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # its audit trail and jobs are kept (PROTECT)


@admin.register(Membership)
class MembershipAdmin(ThroughServicesAdmin, WorkspaceScopedAdmin):
    """Membership changes go through the services, so each one is audited and needs the
    staff user's admin role in that workspace."""

    list_display = ("user", "workspace", "role", "created_at")
    list_filter = ("role", ("workspace", admin.RelatedOnlyFieldListFilter))
    autocomplete_fields = ("user", "workspace")
    required_role = Role.ADMIN

    def get_readonly_fields(self, request, obj=None):
        # Moving a membership to another user or workspace would leave the old access in
        # place; remove it and add a new one instead (both audited).
        return ("user", "workspace") if obj is not None else ()

    def save_model(self, request, obj, form, change) -> None:
        obj.pk = self.save_through_service(
            request, lambda: membership_set(access=staff_access(request, obj), user=obj.user, role=obj.role)).pk

    def delete_model(self, request, obj) -> None:
        self.save_through_service(request, lambda: membership_remove(membership=obj, access=staff_access(request, obj)))

    def delete_queryset(self, request, queryset) -> None:
        for membership in queryset:
            self.delete_model(request, membership)


class ApiKeyAddForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiKey
        fields = ("workspace", "name", "scopes", "expires_at")


@admin.register(ApiKey)
class ApiKeyAdmin(ThroughServicesAdmin, WorkspaceScopedAdmin):
    """Keys are created and revoked through the services (hashed, audited); the token is
    shown once, in the confirmation message."""

    list_display = ("name", "workspace", "prefix", "scope_list", "expires_at", "revoked_at", "last_used_at")
    required_role = Role.ADMIN
    list_filter = (("workspace", admin.RelatedOnlyFieldListFilter), "revoked_at")
    search_fields = ("name", "prefix")
    actions = ("revoke",)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else [field.name for field in ApiKey._meta.fields]

    @admin.display(description="Scopes")
    def scope_list(self, key: ApiKey) -> str:
        return ", ".join(key.scopes)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return
        key, token = self.save_through_service(request, lambda: api_key_create(
            access=staff_access(request, obj), name=obj.name, scopes=form.cleaned_data["scopes"], expires_at=obj.expires_at))
        obj.pk = key.pk
        self.message_user(request, f"Token for {key.name} (copy it now, it is shown only once): {token}", messages.WARNING)

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the audit trail keeps the key's history

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("accounts.change_apikey")

    @admin.action(description="Revoke selected keys", permissions=["revoke"])
    def revoke(self, request, queryset) -> None:
        each_through_service(self, request, queryset, lambda key, access: api_key_revoke(key=key, access=access), "revoked")


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class WorkspaceScopedUserAdmin(UserAdmin):
    """Staff see (and the member picker offers) only people of the workspaces they
    administer; superusers see everyone. Other tenants' people stay unseen."""

    def get_queryset(self, request):
        users = super().get_queryset(request)
        if request.user.is_superuser:
            return users
        return users.filter(memberships__workspace__in=workspaces_for_user(user=request.user, role=Role.ADMIN)).distinct()
