from django.conf import settings
from django.db import models

from pressroom.accounts.models import Workspace


class AppendOnlyError(Exception):
    """Audit events are never changed or deleted."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events are append-only: update() is refused")

    def delete(self):
        raise AppendOnlyError("Audit events are append-only: delete() is refused")


class ActorType(models.TextChoices):
    USER = "user", "User"
    API_KEY = "api_key", "API key"
    WORKER = "worker", "Worker"
    SYSTEM = "system", "System"
    SCHEDULE = "schedule", "Schedule"


class AuditChainHead(models.Model):
    """The last sequence number and hash of a workspace's chain. Writers lock this row,
    so concurrent events are numbered and chained one at a time per workspace."""

    workspace = models.OneToOneField(Workspace, on_delete=models.PROTECT, primary_key=True, related_name="+")
    last_sequence = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")


class AuditEvent(models.Model):
    """One recorded action. `hash` = SHA-256 over the canonical JSON of the event's
    fields and the previous event's hash: editing, deleting or reordering any event
    breaks every later link."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="audit_events")
    sequence = models.BigIntegerField()
    timestamp = models.DateTimeField()
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_id = models.CharField(max_length=255, blank=True)
    actor_label = models.CharField(max_length=255, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ("workspace", "sequence")
        constraints = [
            models.UniqueConstraint(fields=("workspace", "sequence"), name="audit_unique_workspace_sequence"),
        ]
        indexes = [
            models.Index(fields=("workspace", "object_type", "object_id"), name="audit_object"),
            models.Index(fields=("workspace", "timestamp"), name="audit_time"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.object_type}:{self.object_id}"

    @property
    def action_label(self) -> str:
        from pressroom.audit.registry import audit_actions

        return audit_actions.label(self.action) if self.action in audit_actions else self.action

    def save(self, *args, **kwargs):
        _refuse_resave(self)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse_delete(self)


def _refuse_resave(row: models.Model) -> None:
    if not row._state.adding:
        raise AppendOnlyError(f"{row._meta.verbose_name_plural.capitalize()} are append-only: an existing row cannot be saved again")


def _refuse_delete(row: models.Model) -> None:
    raise AppendOnlyError(f"{row._meta.verbose_name_plural.capitalize()} are append-only: delete() is refused")


class AuditCheckpoint(models.Model):
    """A signed statement of a workspace's chain head (sequence, hash, time), in the
    manner of Certificate Transparency's signed tree heads. The key is never in the
    database, and every checkpoint is also appended to a file outside it, so an attacker
    who rewrites the tables cannot rewrite what was signed."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    sequence = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=64)
    signature = models.CharField(max_length=200)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ("workspace", "sequence", "signed_at")

    def save(self, *args, **kwargs):
        _refuse_resave(self)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse_delete(self)
