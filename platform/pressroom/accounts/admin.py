from django import forms
from django.contrib import admin, messages

from pressroom.accounts.models import ApiKey, Membership, Scope, Workspace
from pressroom.accounts.services import (
    api_key_create,
    api_key_revoke,
    membership_remove,
    membership_set,
)
from pressroom.audit.services import Actor
from pressroom.core.admin_actions import each_through_service


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Membership changes go through the services, so each one is audited."""

    list_display = ("user", "workspace", "role", "created_at")
    list_filter = ("role", "workspace")
    autocomplete_fields = ("user", "workspace")

    def get_readonly_fields(self, request, obj=None):
        # Moving a membership to another user or workspace would leave the old access in
        # place; remove it and add a new one instead (both audited).
        return ("user", "workspace") if obj is not None else ()

    def save_model(self, request, obj, form, change) -> None:
        saved = membership_set(workspace=obj.workspace, user=obj.user, role=obj.role, actor=Actor.for_user(request.user))
        obj.pk = saved.pk

    def delete_model(self, request, obj) -> None:
        membership_remove(membership=obj, actor=Actor.for_user(request.user))

    def delete_queryset(self, request, queryset) -> None:
        for membership in queryset:
            self.delete_model(request, membership)


class ApiKeyAddForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiKey
        fields = ("workspace", "name", "scopes", "expires_at")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created and revoked through the services (hashed, audited); the token is
    shown once, in the confirmation message."""

    list_display = ("name", "workspace", "prefix", "scope_list", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("workspace", "revoked_at")
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
        key, token = api_key_create(workspace=obj.workspace, name=obj.name, scopes=form.cleaned_data["scopes"],
                                    actor=Actor.for_user(request.user), expires_at=obj.expires_at)
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
        actor = Actor.for_user(request.user)
        each_through_service(self, request, queryset, lambda key: api_key_revoke(key=key, actor=actor), "revoked")
