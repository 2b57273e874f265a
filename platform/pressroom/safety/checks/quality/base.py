"""What every quality check shares: artifacts only, rules only, `flag` at most, the
workspace's switches, and the text cut into its labelled fields ("Headline: ...")."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from pressroom.safety.checks.base import CheckResult, Evidence, SafetyCheck, Subject

# Labels the use cases write in front of each field of an artifact's text.
FIELD_LABELS = (
    "headline", "body", "cta", "call to action", "subject line", "subject", "preview text", "preview",
    "post", "description", "message", "caption",
)
_LABEL_ALTERNATIVES = "|".join(re.escape(label).replace(r"\ ", r"\s+") for label in sorted(FIELD_LABELS, key=len, reverse=True))
# A field starts a line, or follows " / " or " | " (how one-line copies of a card are quoted).
FIELD_START = re.compile(rf"(?:^|(?<=\n)|(?<= / )|(?<= \| ))[ \t]*(?P<label>{_LABEL_ALTERNATIVES})[ \t]*:", re.IGNORECASE)
MAX_EVIDENCE = 20


@dataclass(frozen=True)
class Segment:
    """One field of the text: its label ("" for unlabelled text) and its value's span."""

    label: str
    start: int
    end: int
    text: str


def _trimmed(text: str, start: int, end: int, label: str) -> Segment:
    value = text[start:end]
    value = re.sub(r"\s+[/|]\s*$", "", value.rstrip())  # the separator before the next field
    lead = len(value) - len(value.lstrip())
    value = value.strip()
    return Segment(label, start + lead, start + lead + len(value), value)


def segments(text: str) -> list[Segment]:
    """The text's fields in order; text with no field labels is one unlabelled segment."""
    starts = list(FIELD_START.finditer(text))
    if not starts:
        return [_trimmed(text, 0, len(text), "")]
    found = []
    if text[: starts[0].start()].strip():
        found.append(_trimmed(text, 0, starts[0].start(), ""))
    for match, following in zip(starts, starts[1:] + [None]):
        label = re.sub(r"\s+", " ", match.group("label").casefold())
        found.append(_trimmed(text, match.end(), following.start() if following else len(text), label))
    return found


def brief_text(brief: Any) -> str:
    """Every value of a job input (keys too: a product attribute's name is part of the brief)."""
    if brief is None:
        return ""
    if isinstance(brief, str):
        return brief
    if isinstance(brief, dict):
        return "\n".join(f"{key}\n{brief_text(value)}" for key, value in brief.items())
    if isinstance(brief, (list, tuple)):
        return "\n".join(brief_text(item) for item in brief)
    if isinstance(brief, (int, float)) and not isinstance(brief, bool):
        return json.dumps(brief)
    return ""


def setting(policy, name: str, default: Any) -> Any:
    """A policy setting, or its default for a policy-like object without it."""
    value = getattr(policy, name, None)
    return default if value is None else value


def quality_active(policy, check_name: str) -> bool:
    return bool(setting(policy, "quality_enabled", True)) and check_name not in setting(policy, "quality_disabled_checks", [])


class QualityCheck(SafetyCheck):
    """Flags (never blocks) copy a marketer could not use as written; subclasses `find`
    evidence spans, each with a plain-words reason."""

    stage = "quality"
    rules_only = True
    scored_by: ClassVar[str] = "quality rules"

    def applies_to_subject(self, subject: Subject) -> bool:
        return subject.label == "artifact"  # a job's input or an image prompt is not copy

    def run(self, subjects: list[Subject], policy) -> list[CheckResult]:
        return [self._result(subject, policy) for subject in subjects]

    def find(self, subject: Subject, policy) -> list[Evidence]:
        raise NotImplementedError

    def thresholds(self, policy) -> dict[str, Any]:
        return {}

    def _result(self, subject: Subject, policy) -> CheckResult:
        if not quality_active(policy, self.name):
            return CheckResult(self.name, "pass", scored_by="switched off by the workspace policy")
        evidence = _outermost(self.find(subject, policy))
        if not evidence:
            return CheckResult(self.name, "pass", thresholds=self.thresholds(policy), scored_by=self.scored_by)
        return CheckResult(
            self.name, "flag", scores={"findings": len(evidence)}, thresholds=self.thresholds(policy),
            evidence=evidence[:MAX_EVIDENCE], scored_by=self.scored_by, reason=summary(evidence),
        )


def _outermost(evidence: list[Evidence]) -> list[Evidence]:
    """One finding per stretch of text: "[User Name]" is not also reported as "User Name"."""
    kept: list[Evidence] = []
    for item in sorted(evidence, key=lambda e: (e.start, -e.end)):
        if not any(k.start <= item.start and item.end <= k.end for k in kept):
            kept.append(item)
    return kept


def summary(evidence: list[Evidence]) -> str:
    """'placeholder left in the copy: "[User Name]"; ...' — the first three findings."""
    parts = list(dict.fromkeys(f'{e.reason}: "{_short(e.text)}"' for e in evidence))
    more = f" (and {len(parts) - 3} more)" if len(parts) > 3 else ""
    return "; ".join(parts[:3]) + more


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def spans(pattern: re.Pattern, text: str, reason: str, category: str, offset: int = 0, group: int | str = 0) -> list[Evidence]:
    return [Evidence(offset + m.start(group), offset + m.end(group), m.group(group), reason, category=category)
            for m in pattern.finditer(text) if m.group(group)]
