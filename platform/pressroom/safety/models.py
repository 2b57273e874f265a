from django.db import models

from pressroom.accounts.models import Workspace

TOXICITY_CATEGORIES = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack", "sexual_explicit")
PII_TYPES = ("email", "phone", "card", "iban")


class Decision(models.TextChoices):
    PASS = "pass", "Pass"
    FLAG = "flag", "Flag"
    BLOCK = "block", "Block"


class PiiAction(models.TextChoices):
    FLAG = "flag", "Flag for review"
    BLOCK = "block", "Block"
    REDACT = "redact", "Redact (new revision)"


def default_flag_thresholds() -> dict:
    return {category: 0.5 for category in TOXICITY_CATEGORIES}


def default_block_thresholds() -> dict:
    return {category: 0.85 for category in TOXICITY_CATEGORIES}


def default_pii_actions() -> dict:
    return {"email": PiiAction.FLAG, "phone": PiiAction.FLAG, "card": PiiAction.BLOCK, "iban": PiiAction.BLOCK}


class SafetyPolicy(models.Model):
    """A workspace's screening rules. Changed only through `safety_policy_update`
    (audited with before/after values)."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="safety_policy")
    auto_approve = models.BooleanField(default=False, help_text="Approve passed artifacts without a reviewer.")
    toxicity_flag_thresholds = models.JSONField(default=default_flag_thresholds)
    toxicity_block_thresholds = models.JSONField(default=default_block_thresholds)
    pii_actions = models.JSONField(default=default_pii_actions)
    banned_terms = models.JSONField(default=list, blank=True)
    competitor_names = models.JSONField(default=list, blank=True)
    # use-case key -> phrases an output of that use case must contain.
    required_disclaimers = models.JSONField(default=dict, blank=True)
    max_chars = models.PositiveIntegerField(null=True, blank=True)
    nsfw_flag_threshold = models.FloatField(default=0.5)
    nsfw_block_threshold = models.FloatField(default=0.85)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Safety policy of {self.workspace}"


class SafetyVerdict(models.Model):
    """What one check decided about one subject (a job's input or an artifact)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.CASCADE, related_name="input_verdicts")
    artifact = models.ForeignKey("jobs.Artifact", null=True, blank=True, on_delete=models.CASCADE, related_name="verdicts")
    check_name = models.CharField(max_length=64)
    decision = models.CharField(max_length=8, choices=Decision.choices)
    scores = models.JSONField(default=dict)
    thresholds = models.JSONField(default=dict)
    evidence = models.JSONField(default=list)
    scored_by = models.CharField(max_length=255, blank=True, help_text="Model or rule set that scored it.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "check_name")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(job__isnull=False) | models.Q(artifact__isnull=False), name="verdict_has_subject"
            ),
        ]
