"""Every audit action has a registered name and a human label (after Wagtail's
LogActionRegistry). Recording an unregistered action is a programming error."""
from __future__ import annotations


class AuditActionRegistry:
    def __init__(self) -> None:
        self._labels: dict[str, str] = {}

    def register(self, name: str, label: str) -> None:
        if not name or "." not in name:
            raise ValueError(f"Audit action names are namespaced like 'job.created', got {name!r}")
        if self._labels.get(name, label) != label:
            raise ValueError(f"Audit action {name!r} is already registered with another label")
        self._labels[name] = label

    def label(self, name: str) -> str:
        try:
            return self._labels[name]
        except KeyError:
            raise KeyError(f"Unregistered audit action {name!r}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._labels

    def items(self) -> list[tuple[str, str]]:
        return sorted(self._labels.items())


audit_actions = AuditActionRegistry()

CORE_ACTIONS = {
    "job.created": "Job created",
    "job.started": "Job started",
    "job.succeeded": "Job succeeded",
    "job.failed": "Job failed",
    "job.retry_scheduled": "Job retry scheduled",
    "job.cancel_requested": "Job cancellation requested",
    "job.cancelled": "Job cancelled",
    "job.retried": "Job retried by an operator",
    "job.requeued": "Job requeued (its worker was lost)",
    "job.input_blocked": "Job input blocked by safety",
    "artifact.created": "Artifact created",
    "artifact.screened": "Artifact screened",
    "artifact.passed": "Artifact passed screening",
    "artifact.flagged": "Artifact flagged for review",
    "artifact.blocked": "Artifact blocked",
    "artifact.approved": "Artifact approved",
    "artifact.rejected": "Artifact rejected",
    "artifact.edited": "Artifact edited (new revision)",
    "artifact.redacted": "Artifact redacted (new revision)",
    "artifact.published": "Artifact published",
    "artifact.scheduled": "Artifact scheduled to publish at a time",
    "artifact.schedule_cancelled": "Artifact's scheduled publication cancelled",
    "artifact.schedule_failed": "Artifact's scheduled publication failed",
    "workspace.created": "Workspace created",
    "workspace.renamed": "Workspace renamed",
    "workspace.quota_changed": "Workspace quota changed",
    "workspace.time_zone_changed": "Workspace time zone changed",
    "api_key.created": "API key created",
    "api_key.revoked": "API key revoked",
    "webhook.created": "Webhook endpoint created",
    "webhook.updated": "Webhook endpoint updated",
    "webhook.deleted": "Webhook endpoint deleted",
    "webhook.paused": "Webhook endpoint paused (it kept failing)",
    "webhook.resumed": "Webhook endpoint resumed",
    "prompt_template.saved": "Prompt template saved (new version)",
    "workspace.policy_changed": "Workspace safety policy changed",
    "workspace.plugins_changed": "Workspace plugins turned on or off",
    "membership.added": "Member added",
    "membership.role_changed": "Member role changed",
    "membership.removed": "Member removed",
}
for _name, _label in CORE_ACTIONS.items():
    audit_actions.register(_name, _label)
