"""Writing a workspace's required disclaimers into a field, within its character limit.

The brand check (pressroom.safety.checks.brand) flags an artifact whose text does not
contain each phrase of `SafetyPolicy.required_disclaimers[use_case]`, compared after
normalisation (case, accents, look-alike letters). Use cases call `fit_disclaimers` on the
field that carries the copy (an ad's body, a description, a message) before returning
their drafts, so the check verifies the disclaimer instead of flagging every artifact.

Rules, in order:
- a phrase already in the text (as the brand check sees it) is not added again;
- the missing phrases are appended, in the policy's order, after `separator`;
- if the field would then be over `limit`, the body is shortened first: to its last whole
  sentence that leaves room, else to its last whole word; never mid-word. If not even one
  word fits, the field holds the disclaimers alone;
- if the disclaimers alone are longer than `limit`, `DisclaimerTooLong` is raised: the copy
  cannot meet both the policy and the channel's limit, and a job failing with that message
  is better than copy that silently breaks one of them.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pressroom.safety.checks.normalise import normalise

# The end of a sentence: closing punctuation (and any closing quote or bracket) then a space.
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)")
# ... or the end of the text.
_SENTENCE_END_OR_TEXT_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s|$)")


def complete_sentences(text: str) -> str:
    """The text up to its last sentence end: what survives of an answer the model was cut
    off in ("" if no sentence was finished)."""
    ends = [match.end() for match in _SENTENCE_END_OR_TEXT_END.finditer(text)]
    return text[: ends[-1]].rstrip() if ends else ""


class DisclaimerTooLong(ValueError):
    """The required disclaimers alone do not fit the field's character limit."""


@dataclass(frozen=True)
class DisclaimedText:
    text: str
    # The phrases appended (those the text already held are not listed).
    added: list[str] = field(default_factory=list)
    # True when the body was cut to make room.
    shortened: bool = False


def missing_disclaimers(text: str, disclaimers: Iterable[str]) -> list[str]:
    """The phrases the brand check would not find in `text`, each once, in order."""
    haystack = normalise(text)
    wanted = [phrase.strip() for phrase in disclaimers if phrase and phrase.strip()]
    return [phrase for phrase in dict.fromkeys(wanted) if normalise(phrase) not in haystack]


def shorten_at_boundary(text: str, limit: int) -> str:
    """At most `limit` characters: whole sentences if one ends in reach, else whole words;
    "" when not even the first word fits. Never cuts a word."""
    text = text.rstrip()
    if len(text) <= limit:
        return text
    window = text[: limit + 1]  # one more character: a space there means the word before is whole
    sentences = [m.end() for m in _SENTENCE_END.finditer(window) if m.end() <= limit]
    if sentences:
        return text[: sentences[-1]]
    space = window.rfind(" ")
    return text[:space].rstrip(" ,;:-–—") if space > 0 else ""


def fit_disclaimers(text: str, disclaimers: Iterable[str], limit: int | None = None, *, separator: str = " ") -> DisclaimedText:
    """`text` with every missing disclaimer appended, within `limit` characters (None: no limit)."""
    missing = missing_disclaimers(text, disclaimers)
    if not missing:
        return DisclaimedText(text)
    suffix = " ".join(missing)
    if limit is not None and len(suffix) > limit:
        raise DisclaimerTooLong(
            f"The required disclaimer{'s' if len(missing) > 1 else ''} {suffix!r} ({len(suffix)} characters) "
            f"cannot fit a field limited to {limit} characters; shorten it in the workspace's safety policy."
        )
    body = text.rstrip()
    room = None if limit is None else limit - len(suffix) - len(separator)
    shortened = room is not None and len(body) > room
    if shortened:
        body = shorten_at_boundary(body, max(room, 0))
    return DisclaimedText(f"{body}{separator}{suffix}" if body else suffix, missing, shortened)
