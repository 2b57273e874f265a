from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from pressroom.safety.models import SafetyPolicy

SEVERITY = {"pass": 0, "flag": 1, "block": 2}
# Labels of an image artifact's text subjects.
IMAGE_PROMPT = "image prompt"
TYPESET_TEXT = "typeset text"
# Checks load their models on first use, in the threads that screening runs them in side
# by side. Two loaders importing scikit-learn at once can deadlock in Python's import
# system (seen in a fresh web worker: ImportError "partially initialized module
# 'sklearn.svm._base'", and both checks failed closed), so models load one at a time.
MODEL_LOADING = threading.RLock()


def worst_decision(decisions: list[str]) -> str:
    """Checks only ever escalate: the combined decision is the most severe one."""
    return max(decisions, key=SEVERITY.__getitem__, default="pass")


@dataclass(frozen=True)
class Subject:
    """Something to screen: a job input field, an artifact's text, or an image."""

    text: str = ""
    png: bytes | None = None
    use_case: str = ""
    # Where the text came from, for messages: "input.prompt", "artifact", "image prompt",
    # "typeset text" (the copy drawn on an image).
    label: str = "text"
    # The artifact's structured output, for checks that verify it (e.g. catalog grounding).
    data: dict = field(default_factory=dict, hash=False, compare=False)
    # The job input the artifact was written from (a dict, or a plain-text brief), for checks
    # that compare the output with what was asked; None where there is no brief.
    brief: Any = field(default=None, hash=False, compare=False)

    @property
    def is_model_input(self) -> bool:
        """What a model was given (a job's input, an image's prompt), not what it made."""
        return self.label.startswith("input") or self.label == IMAGE_PROMPT


@dataclass(frozen=True)
class Evidence:
    start: int
    end: int
    text: str
    reason: str
    # For PII redaction: the replacement and the policy action for this span.
    category: str = ""
    action: str = ""


@dataclass
class CheckResult:
    check: str
    decision: str
    scores: dict[str, float] = field(default_factory=dict)
    thresholds: dict[str, Any] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    scored_by: str = ""
    error: str = ""
    # Human-readable: which rule decided, and why.
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["evidence"] = [asdict(item) for item in self.evidence]
        return data


class SafetyCheck:
    name: ClassVar[str]
    applies_to_text: ClassVar[bool] = True
    applies_to_images: ClassVar[bool] = False
    # Pure rules over the text (patterns, word lists): fast and unable to hang, so screening
    # runs it in the caller's thread instead of handing it to the pool with a deadline.
    rules_only: ClassVar[bool] = False
    # "safety" (harm, PII, brand) or "quality" (is the copy usable): evaluations score one stage.
    stage: ClassVar[str] = "safety"

    def applies_to_subject(self, subject: Subject) -> bool:
        """A narrower filter than applies_to_text/images (e.g. artifacts only). Optional."""
        return True

    def run(self, subjects: list[Subject], policy: SafetyPolicy) -> list[CheckResult]:
        raise NotImplementedError

    def prepare(self, subjects: list[Subject]) -> None:
        """Policy-independent model work for a batch that spans workspaces (e.g. embedding
        every sentence once); `run` then finds it cached. Optional."""

    def failed_closed(self, error: str) -> CheckResult:
        """A check that cannot give an answer sends the subject to human review."""
        return CheckResult(self.name, "flag", error=error, reason=f"{self.name} check could not run: {error}")
