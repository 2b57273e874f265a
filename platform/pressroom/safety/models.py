from django.core.exceptions import ValidationError
from django.db import models

from pressroom.accounts.models import Workspace

TOXICITY_CATEGORIES = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack", "sexual_explicit")
PII_TYPES = ("email", "phone", "card", "iban")
# The semantic harm check's categories (safety/checks/harm.py).
HARM_CATEGORIES = ("threat", "incitement", "self_harm", "hate", "harassment", "sexual")
MAX_BANNED_TOPICS = 50
MAX_TOPIC_EXAMPLES = 20
MAX_TOPIC_CHARS = 300
# Kinds of fact the quality stage requires the brief to contain (checks/quality/facts.py).
QUALITY_FACT_TYPES = ("url", "email", "price", "percentage", "date", "measurement", "phone")
QUALITY_LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl")
QUALITY_LIMITS = {  # field: (lowest, highest)
    "quality_max_word_run": (1, 10), "quality_max_sentence_repeats": (1, 10),
    "quality_min_words_for_punctuation": (3, 200), "quality_extra_hashtags_allowed": (0, 30),
}


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


# Chosen on the calibration split of bench/data (see its README): recall on block-worthy
# texts against false positives on clean marketing copy.
def default_harm_flag_thresholds() -> dict:
    return {category: 0.3 for category in HARM_CATEGORIES}


def default_harm_block_thresholds() -> dict:
    return {category: 0.8 for category in HARM_CATEGORIES}


DEFAULT_TOPIC_THRESHOLD = 0.25


def default_quality_fact_types() -> list:
    return list(QUALITY_FACT_TYPES)


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
    harm_flag_thresholds = models.JSONField(default=default_harm_flag_thresholds)
    harm_block_thresholds = models.JSONField(default=default_harm_block_thresholds)
    # [{"topic": "party politics", "examples": ["Vote for ..."], "action": "flag" | "block"}]
    banned_topics = models.JSONField(default=list, blank=True)
    topic_threshold = models.FloatField(
        default=DEFAULT_TOPIC_THRESHOLD, help_text="Similarity (0-1) from which a sentence counts as on a banned topic."
    )
    # The quality stage (checks/quality/): flags copy that is not usable as written.
    quality_enabled = models.BooleanField(default=True, help_text="Flag unusable copy (placeholders, loops, made-up facts...).")
    quality_disabled_checks = models.JSONField(default=list, blank=True, help_text="Quality checks switched off, by name.")
    quality_fact_types = models.JSONField(
        default=default_quality_fact_types, blank=True,
        help_text="Facts the copy may only state when the brief gives them: url, email, price, percentage, date, phone.",
    )
    quality_max_word_run = models.PositiveSmallIntegerField(
        default=1, help_text="Times a word may appear in a row (1 flags 'the the'; common doubles like 'very very' pass).")
    quality_max_sentence_repeats = models.PositiveSmallIntegerField(default=1, help_text="Times the same sentence may appear.")
    quality_min_words_for_punctuation = models.PositiveSmallIntegerField(
        default=12, help_text="From this many words, a field (other than a headline, subject or CTA) must end a sentence.")
    quality_extra_hashtags_allowed = models.PositiveSmallIntegerField(
        default=0, help_text="Hashtags a post may add to those the brief asks for.")
    quality_language = models.CharField(
        max_length=8, default="en", blank=True,
        help_text="The copy's language when the brief's is unclear (en, de, fr, es, it, pt, nl; empty: do not check then).")
    # Raised by every change; verdicts record the version that judged them.
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name, verbose_name_plural = "safety policy", "safety policies"

    def __str__(self) -> str:
        return f"Safety policy of {self.workspace}"

    def clean(self) -> None:
        errors = {}
        for name, categories in (
            ("toxicity_flag_thresholds", TOXICITY_CATEGORIES), ("toxicity_block_thresholds", TOXICITY_CATEGORIES),
            ("harm_flag_thresholds", HARM_CATEGORIES), ("harm_block_thresholds", HARM_CATEGORIES),
        ):
            problem = thresholds_problem(getattr(self, name), categories)
            if problem:
                errors[name] = problem
        for kind in ("toxicity", "harm"):
            problem = threshold_order_problem(getattr(self, f"{kind}_flag_thresholds"), getattr(self, f"{kind}_block_thresholds"))
            if problem and f"{kind}_flag_thresholds" not in errors:
                errors[f"{kind}_flag_thresholds"] = problem
        problem = banned_topics_problem(self.banned_topics)
        if problem:
            errors["banned_topics"] = problem
        for name in ("banned_terms", "competitor_names"):
            value = getattr(self, name)
            if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
                errors[name] = "Must be a list of non-empty words or phrases."
        if not isinstance(self.required_disclaimers, dict) or not all(
            isinstance(phrases, list) and all(isinstance(p, str) and p.strip() for p in phrases)
            for phrases in self.required_disclaimers.values()
        ):
            errors["required_disclaimers"] = "Must map a use-case key to a list of phrases."
        if not 0 <= self.topic_threshold <= 1:
            errors["topic_threshold"] = "Must be between 0 and 1."
        errors.update(quality_problems(self))
        if errors:
            raise ValidationError(errors)


def quality_problems(policy: "SafetyPolicy") -> dict[str, str]:
    """Why the quality settings are unusable, by field."""
    from pressroom.safety.registry import stage_checks

    errors = {}
    names = sorted(check.name for check in stage_checks("quality"))
    disabled = policy.quality_disabled_checks
    if not isinstance(disabled, list) or not all(isinstance(name, str) for name in disabled):
        errors["quality_disabled_checks"] = "Must be a list of quality check names."
    elif sorted(set(disabled) - set(names)):
        errors["quality_disabled_checks"] = f"Unknown quality checks: {', '.join(sorted(set(disabled) - set(names)))} (known: {', '.join(names)})."
    kinds = policy.quality_fact_types
    if not isinstance(kinds, list) or not all(isinstance(kind, str) and kind in QUALITY_FACT_TYPES for kind in kinds):
        errors["quality_fact_types"] = f"Must be a list of: {', '.join(QUALITY_FACT_TYPES)}."
    for name, (lowest, highest) in QUALITY_LIMITS.items():
        value = getattr(policy, name)
        if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= highest:
            errors[name] = f"Must be a whole number from {lowest} to {highest}."
    if policy.quality_language not in ("", *QUALITY_LANGUAGES):
        errors["quality_language"] = f"Must be one of {', '.join(QUALITY_LANGUAGES)}, or empty."
    return errors


def thresholds_problem(value, categories) -> str:
    """Why a thresholds mapping is unusable, or ""."""
    if not isinstance(value, dict):
        return "Must be an object of category: number."
    unknown = sorted(set(value) - set(categories))
    if unknown:
        return f"Unknown categories: {', '.join(unknown)} (known: {', '.join(categories)})."
    for category, number in value.items():
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not 0 <= number <= 1:
            return f"{category}: must be a number between 0 and 1."
    return ""


def threshold_order_problem(flag, block) -> str:
    """A flag threshold above its block threshold would never flag: refused."""
    if not isinstance(flag, dict) or not isinstance(block, dict):
        return ""
    inverted = sorted(c for c in flag if c in block and isinstance(flag[c], (int, float)) and isinstance(block[c], (int, float))
                      and flag[c] > block[c])
    return f"Flag thresholds above block thresholds for: {', '.join(inverted)}." if inverted else ""


def banned_topics_problem(value) -> str:
    """Why a banned-topics list is unusable, or ""."""
    if not isinstance(value, list):
        return "Must be a list of topics."
    if len(value) > MAX_BANNED_TOPICS:
        return f"At most {MAX_BANNED_TOPICS} topics."
    for number, topic in enumerate(value, start=1):
        if not isinstance(topic, dict) or not isinstance(topic.get("topic"), str) or not topic["topic"].strip():
            return f"Topic {number}: needs a non-empty \"topic\" text."
        unknown = sorted(set(topic) - {"topic", "examples", "action"})
        if unknown:
            return f"Topic {number}: unknown keys {', '.join(unknown)}."
        examples = topic.get("examples", [])
        if not isinstance(examples, list) or not all(isinstance(e, str) and e.strip() for e in examples):
            return f"Topic {number}: examples must be a list of sentences."
        if len(examples) > MAX_TOPIC_EXAMPLES:
            return f"Topic {number}: at most {MAX_TOPIC_EXAMPLES} examples."
        if any(len(text) > MAX_TOPIC_CHARS for text in [topic["topic"], *examples]):
            return f"Topic {number}: each text at most {MAX_TOPIC_CHARS} characters."
        if topic.get("action", "flag") not in ("flag", "block"):
            return f"Topic {number}: action must be \"flag\" or \"block\"."
    return ""


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
    # The check's own account of its decision ("missing required disclaimer: 'Terms apply.'"):
    # some findings (a missing phrase, a length) have no span to carry them as evidence.
    reason = models.TextField(blank=True)
    policy_version = models.PositiveIntegerField(null=True, blank=True, help_text="The policy version that judged it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "check_name")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(job__isnull=False) | models.Q(artifact__isnull=False), name="verdict_has_subject"
            ),
        ]
