from django.conf import settings
from django.db import models

from pressroom.accounts.models import Workspace


class StoredPromptTemplate(models.Model):
    """A version of a workspace's prompt template for a key. Saving makes a new version;
    old versions stay, so an artifact's provenance (key, version) can always be read."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="prompt_templates")
    key = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    body = models.TextField()
    tone = models.CharField(max_length=200, blank=True)
    audience = models.CharField(max_length=200, blank=True)
    words_to_avoid = models.JSONField(default=list, blank=True)
    phrases_to_include = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("workspace", "key", "-version")
        constraints = [
            models.UniqueConstraint(fields=("workspace", "key", "version"), name="prompt_template_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"
