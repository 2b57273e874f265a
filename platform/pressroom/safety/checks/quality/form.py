"""The shape of the copy: a field cut off mid-sentence, a field left empty or holding only a
label, hashtags nobody asked for."""
from __future__ import annotations

import re
import unicodedata

from pressroom.safety.checks.base import Evidence, Subject
from pressroom.safety.checks.quality.base import FIELD_LABELS, QualityCheck, Segment, segments, setting

# A sentence does not end on these words: the text was cut (or the model stopped) mid-phrase.
DANGLING = {
    "and", "or", "but", "nor", "to", "for", "the", "a", "an", "of", "with", "while", "as", "because", "than", "that",
    "which", "who", "whose", "whom", "if", "when", "whereas", "although", "though", "via", "from", "into", "onto", "your",
    "our", "my", "their", "its", "is", "was", "were", "will", "could", "would", "should", "been",
    "has", "have", "per", "including", "such", "plus", "whether", "where", "so that", "thanks to", "during", "between",
    "among", "without", "toward", "towards", "upon", "unlike", "every",
}
TERMINAL = set(".!?…\"'”’)]»*")
TRAILING_TAGS = re.compile(r"(?:\s*#[^\W_][\w]*)+\s*$")
# Fields that are headings, where closing punctuation is optional.
HEADING_LABELS = {"headline", "subject", "subject line", "cta", "call to action", "caption"}
LAST_WORD = re.compile(r"([^\W\d_][\w'’-]*)\W*$")
EMPTY_VALUES = {"n/a", "na", "none", "null", "nil", "empty", "-", "—", "tbd", "...", "…", *FIELD_LABELS}
BULLET_ONLY = re.compile(r"^[-*•–]\s*\S+(?:\s+\S+)?\s*$")
ENDS_WITH_LINK = re.compile(r"(?:https?://\S+|www\.\S+|\b[\w-]+\.[a-z]{2,}(?:/\S*)?|@\w+)$", re.IGNORECASE)
HASHTAG = re.compile(r"(?<![\w&#/])#([^\W_][\w]*)")


def _body(segment: Segment, disclaimers: tuple[str, ...] = ()) -> str:
    return _without_disclaimers(TRAILING_TAGS.sub("", segment.text).rstrip(), disclaimers)


def _without_disclaimers(text: str, disclaimers: tuple[str, ...]) -> str:
    """The text before the workspace's required disclaimers that a use case appended: a
    closing "Terms apply." must not hide a body cut mid-sentence before it."""
    stripped = True
    while stripped:
        stripped = False
        for phrase in disclaimers:
            if phrase and text.casefold().endswith(phrase.strip().casefold()) and len(text) > len(phrase.strip()):
                text, stripped = text[: -len(phrase.strip())].rstrip(), True
    return text


def required_disclaimers(policy, use_case: str) -> tuple[str, ...]:
    """The phrases the workspace requires of this use case's outputs (use case -> phrases)."""
    required = setting(policy, "required_disclaimers", None) or {}
    phrases = required.get(use_case, []) if isinstance(required, dict) else []
    return tuple(phrase for phrase in phrases if isinstance(phrase, str))


def _ends_with_symbol(text: str) -> bool:
    return bool(text) and unicodedata.category(text[-1]) in ("So", "Sk")  # an emoji closes a line well enough


def cut_reason(segment: Segment, min_words: int, disclaimers: tuple[str, ...] = ()) -> str:
    body = _body(segment, disclaimers)
    if not body or _ends_with_symbol(body) or ENDS_WITH_LINK.search(body):
        return ""  # an emoji, a link or a handle closes a post well enough
    if body[-1] in ",;:-–—/&+(":
        return f"ends on '{body[-1]}', mid-sentence"
    last = LAST_WORD.search(body)
    if last and last.group(1).casefold() in DANGLING and body[-1] not in TERMINAL:
        return f"ends on '{last.group(1)}', mid-sentence"
    needs_stop = segment.label not in HEADING_LABELS and len(body.split()) >= min_words
    if needs_stop and body[-1] not in TERMINAL:
        return "stops without finishing the sentence"
    return ""


class TruncatedCheck(QualityCheck):
    name = "quality_truncated"

    def thresholds(self, policy) -> dict:
        return {"min_words_for_closing_punctuation": setting(policy, "quality_min_words_for_punctuation", 12)}

    def find(self, subject: Subject, policy) -> list[Evidence]:
        min_words = self.thresholds(policy)["min_words_for_closing_punctuation"]
        disclaimers = required_disclaimers(policy, subject.use_case)
        found = []
        for segment in segments(subject.text):
            reason = cut_reason(segment, min_words, disclaimers)
            if reason:
                body = _body(segment, disclaimers)
                tail = body[-40:]
                end = segment.start + len(body)
                found.append(Evidence(end - len(tail), end, tail, f"{_name(segment)} {reason}", category="truncated"))
        return found


def _name(segment: Segment) -> str:
    return f"the {segment.label} field" if segment.label else "the text"


def empty_reason(segment: Segment) -> str:
    value = segment.text.strip()
    bare = re.sub(r"[\W_]+", " ", value).strip().casefold()
    if not bare:
        return "is empty"
    if value.casefold().strip(" .:") in EMPTY_VALUES or bare in EMPTY_VALUES:
        return "holds only a label or filler"
    if BULLET_ONLY.match(value):
        return "holds only a list bullet, not copy"
    return _too_few_words(segment, value)


# Copy fields (not headings) say something: a body of "No." is not copy.
MIN_COPY_WORDS = 2
COPY_WORD = re.compile(r"[^\W\d_]{2,}")


def _too_few_words(segment: Segment, value: str) -> str:
    words = COPY_WORD.findall(value)
    if segment.label and segment.label.casefold() not in HEADING_LABELS and len(words) < MIN_COPY_WORDS:
        return f"holds {len(words)} word{'s' if len(words) != 1 else ''}, too few to be copy"
    if not words:
        return "holds no word, only numbers or symbols"
    return ""


class EmptyFieldCheck(QualityCheck):
    name = "quality_empty_field"

    def find(self, subject: Subject, policy) -> list[Evidence]:
        if not subject.text.strip():
            return [Evidence(0, len(subject.text), subject.text, "the text is empty", category="empty_field")]
        found = []
        for segment in segments(subject.text):
            reason = empty_reason(segment)
            if reason and (segment.label or len(segments(subject.text)) == 1):
                found.append(Evidence(segment.start, segment.end, segment.text or f"{segment.label}:",
                                      f"{_name(segment)} {reason}", category="empty_field"))
        return found


def _tag_key(tag: str) -> str:
    return re.sub(r"[\W_]+", "", tag).casefold()


def requested_hashtags(brief) -> set[str] | None:
    """The hashtags the brief asks for, or None where it says nothing about hashtags."""
    from pressroom.safety.checks.quality.base import brief_text

    text = brief_text(brief)
    in_text = {_tag_key(tag) for tag in HASHTAG.findall(text)}
    if isinstance(brief, dict) and isinstance(brief.get("hashtags"), list):
        return in_text | {_tag_key(str(tag)) for tag in brief["hashtags"]}
    return in_text if in_text or "hashtag" in text.casefold() else None


class ExtraHashtagCheck(QualityCheck):
    name = "quality_hashtags"

    def thresholds(self, policy) -> dict:
        return {"extra_hashtags_allowed": setting(policy, "quality_extra_hashtags_allowed", 0)}

    def find(self, subject: Subject, policy) -> list[Evidence]:
        requested = requested_hashtags(subject.brief)
        if requested is None:
            return []
        extra = [m for m in HASHTAG.finditer(subject.text) if _tag_key(m.group(1)) not in requested]
        if len(extra) <= self.thresholds(policy)["extra_hashtags_allowed"]:
            return []
        return [Evidence(m.start(), m.end(), m.group(), "a hashtag the brief did not ask for", category="hashtag") for m in extra]
