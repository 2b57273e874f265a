import zoneinfo
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


@lru_cache(maxsize=1)
def time_zone_names() -> frozenset[str]:
    """IANA names this Python knows (the system's zoneinfo, or the tzdata package)."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(f"{value!r} is not a time zone name like Europe/Paris or UTC.", code="invalid_time_zone")


class Workspace(models.Model):
    """A tenant: every job, artifact and key belongs to exactly one workspace."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    # Installed plugins whose use cases this workspace does not offer (a plugin installed
    # later is offered until an admin turns it off). Changed through `workspace_plugins_set`.
    disabled_plugins = models.JSONField(default=list, blank=True)
    # Where its people live: schedules run and dashboard times show in this zone.
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    EDITOR = "editor", "Editor"
    REVIEWER = "reviewer", "Reviewer"
    ADMIN = "admin", "Admin"


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EDITOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "workspace"), name="membership_unique_user_workspace"),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"


class Scope(models.TextChoices):
    JOBS_WRITE = "jobs:write", "Create and cancel jobs"
    CONTENT_READ = "content:read", "Read jobs and artifacts"
    CONTENT_REVIEW = "content:review", "Approve and reject artifacts"
    CONTENT_PUBLISH = "content:publish", "Publish artifacts"
    AUDIT_READ = "audit:read", "Read and export the audit trail"
    WEBHOOKS_MANAGE = "webhooks:manage", "Manage webhook endpoints"
    POLICY_MANAGE = "policy:manage", "Change the safety policy"


class ApiKey(models.Model):
    """A workspace's key for CMSs and scripts. Only a hash of the secret is stored; the
    prefix stays visible so a key can be recognised in lists and logs."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name, verbose_name_plural = "API key", "API keys"

    def __str__(self) -> str:
        return f"{self.name} (pr_{self.prefix}_…)"
