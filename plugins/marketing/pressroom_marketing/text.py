"""Cleaning model output and holding it to length limits."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pressroom.plugins import GenerateText, TextOutput, complete_sentences, fit_disclaimers

LABEL = re.compile(r"^\s*(?:[-*#>\d.)\s]+)?(?:headline|body|call to action|cta|subject(?: line)?|preview(?: text)?|post|description)\s*:\s*", re.I)


# Lines that come before an answer rather than being one: a salutation ("Dear Alex,"),
# a bare label ("Subject:"), or an introduction ending in a colon ("Here's a headline:").
PREAMBLE = re.compile(r"^(?:(?:dear|hi|hello|hey|greetings)\b[^.!?:]{0,40},?|[^.!?]{0,80}:)$", re.I)


def clean_line(text: str, *, single_line: bool = True) -> str:
    """Strip labels, quotes and markdown the model adds around the answer; a one-line
    field takes the first line that is an answer, not a salutation or an introduction."""
    text = text.strip()
    if single_line:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        text = next((line for line in lines if not _preamble(line)), lines[0] if lines else "")
    text = LABEL.sub("", text).strip().strip('"“”\'*').strip()
    return re.sub(r"\s+", " ", text) if single_line else text


def _preamble(line: str) -> bool:
    return bool(PREAMBLE.match(line.strip().strip('"“”\'*').strip()))


def trim_at_word_boundary(text: str, limit: int) -> str:
    """At most `limit` characters, cut after a whole word; an ellipsis only if there is room."""
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0].rstrip(" ,;:-")
    if len(cut) > limit or not cut:
        cut = text[:limit]
    return cut


@dataclass
class Field:
    """One text to write within a character limit."""

    name: str
    prompt: str
    limit: int
    single_line: bool = True
    # The field's own sampling temperature; None: the request's.
    temperature: float | None = None
    # Few-shot turns shown before the field's prompt: (request, answer) pairs.
    examples: tuple[tuple[str, str], ...] = ()
    value: str = ""
    regenerated: bool = False
    trimmed: bool = False
    # The model ran out of budget mid-sentence and nothing whole was left.
    cut: bool = False
    # Regenerated because the quality stage would have flagged it.
    quality_regenerated: bool = False
    # Sentences left out because the quality stage flagged the field with them in.
    sentences_dropped: list[str] = field(default_factory=list)
    # Required disclaimers written into this field, and whether its text was cut for them.
    disclaimers_added: list[str] = field(default_factory=list)
    shortened_for_disclaimers: bool = False
    outputs: list[TextOutput] = field(default_factory=list)

    @property
    def over(self) -> bool:
        return self.over_with(self.value)

    def over_with(self, value: str) -> bool:
        return len(value) > self.limit or not value


# Tokens per character limit: small models write about 3.5 characters per token in
# English copy; the slack lets a line end on its own instead of at the budget.
CHARS_PER_TOKEN = 3.0
BUDGET_SLACK_TOKENS = 8


def token_budget(limit: int, cap: int) -> int:
    """The new-token budget of a field with a `limit`-character answer."""
    return max(4, min(cap, int(limit / CHARS_PER_TOKEN) + BUDGET_SLACK_TOKENS))


def _answer(item: Field, output: TextOutput) -> tuple[str, bool]:
    """An output as the field's text, and whether it was cut with nothing whole left: one
    that ran out of budget keeps its whole sentences, else its phrase closed."""
    value = clean_line(output.text, single_line=item.single_line)
    if output.params.get("finish_reason") != "length":
        return value, False
    kept = complete_sentences(value)
    return kept or close_phrase(value), not kept


def _settle(item: Field, output: TextOutput) -> None:
    """Take an output for a field, unless it is longer than a within-limit answer already held."""
    value, item.cut = _answer(item, output)
    item.outputs = item.outputs + [output]
    if not item.value or not item.over_with(value) or len(value) < len(item.value):
        item.value = value


def write_fields(fields: list[Field], *, system_prompt: str, seed: int, temperature: float, max_new_tokens: int = 96,
                 review: Callable[[str], list[str]] | None = None, regenerations: int = 2):
    """Generate every field in one request, each with a token budget from its character
    limit; regenerate once, with a stricter instruction, the fields that came out too long,
    empty or cut mid-sentence; trim what is still too long at a sentence, clause or word
    boundary. Then, with `review` (the run context's quality_review, which sees each field
    as it will ship), up to `regenerations` rounds: leave out a sentence the stage flags
    where the rest stands alone, and regenerate the fields it still flags, keeping whichever
    version it flags for fewer reasons.
    A sub-generator: `yield from write_fields(...)` inside a use case's run."""
    outputs = yield _request(fields, [f.prompt for f in fields], system_prompt, seed, temperature, max_new_tokens)
    for item, output in zip(fields, outputs):
        _settle(item, output)
    retry = [f for f in fields if f.over or f.cut]
    if retry:
        outputs = yield _request(
            retry, [f"{f.prompt}\nAnswer in at most {f.limit} characters, as complete sentences or one phrase. "
                    "Reply with the text only." for f in retry],
            system_prompt, seed + 1000, temperature, max_new_tokens,
        )
        for item, output in zip(retry, outputs):
            item.regenerated = True
            _settle(item, output)
    for item in fields:
        _fit(item)
    if review is not None:
        for round_number in range(regenerations):
            if not (yield from _regenerate_flagged(fields, review, system_prompt, seed + 2000 + 1000 * round_number,
                                                   temperature, max_new_tokens)):
                break
    return fields


def _fit(item: Field) -> None:
    """Hold the field to its limit (what ships is what the quality stage reviews)."""
    if len(item.value) > item.limit:
        item.value, item.trimmed = trim_at_sentence_or_word(item.value, item.limit), True


def _reviewed(item: Field, review: Callable[[str], list[str]], value: str | None = None) -> list[str]:
    """The quality stage's reasons for one field, labelled as the variant's text labels it,
    and whether it repeats its worked example instead of writing about its own brief."""
    value = item.value if value is None else value
    copied = copied_from_examples(item, value)
    return review(f"{item.name}: {value}") + ([f"repeats its example: {', '.join(copied)}"] if copied else [])


WORDS = re.compile(r"[^\W\d_]{4,}")
# Words any answer may share with an example: they say nothing about the example's product.
PLAIN_WORDS = frozenset("your yours with that this from what more just into every today order shop made here there they "
                        "them their have will when where which while about than then also only make find need".split())


def copied_from_examples(item: Field, value: str) -> list[str]:
    """Words of the field's example answers that its answer repeats although its own
    prompt never gives them ("Find your pack" under a mug's brief)."""
    if not item.examples:
        return []
    own = {word.casefold() for word in WORDS.findall(item.prompt)}
    shown = {word.casefold() for _, answer in item.examples for word in WORDS.findall(answer)}
    said = {word.casefold() for word in WORDS.findall(value)}
    return sorted((said & shown) - own - PLAIN_WORDS)


def _regenerate_flagged(fields: list[Field], review: Callable[[str], list[str]], system_prompt: str, seed: int,
                        temperature: float, cap: int):
    """One round: repair or regenerate the fields the quality stage flags. Returns whether
    any field was still flagged (so another round may help)."""
    flagged = {}
    for item in fields:
        problems = _reviewed(item, review)
        if problems:
            problems = drop_flagged_sentences(item, review, problems)
        if problems:
            flagged[id(item)] = problems
    retry = [f for f in fields if id(f) in flagged]
    if not retry:
        return False
    outputs = yield _request(
        retry, [f"{f.prompt}\nWrite finished copy for customers: no placeholders, no notes about the task, "
                f"only facts given above, at most {f.limit} characters." for f in retry],
        system_prompt, seed, temperature, cap,
    )
    for item, output in zip(retry, outputs):
        candidate, _ = _answer(item, output)
        if len(candidate) > item.limit:
            candidate = trim_at_sentence_or_word(candidate, item.limit)
        item.quality_regenerated = True
        item.outputs = item.outputs + [output]
        if candidate and len(_reviewed(item, review, candidate)) < len(flagged[id(item)]):
            item.value, item.cut = candidate, False
    return True


# A sentence: up to its closing punctuation (and any closing quote), or to a line end.
SENTENCE = re.compile(r"[^\s][^\n]*?(?:[.!?]+[\"'”’)]*(?=\s|$)|(?=\n)|$)")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in SENTENCE.finditer(text) if match.group().strip()]


def without_span(text: str, span: tuple[int, int]) -> str:
    """The text with one sentence taken out, its spacing and paragraphs kept tidy."""
    joined = text[: span[0]].rstrip(" ") + (" " if text[: span[0]].strip() and not text[: span[0]].endswith("\n") else "")
    joined = (joined + text[span[1]:].lstrip(" ")).strip()
    return re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]+\n", "\n", joined))


def drop_flagged_sentences(item: Field, review: Callable[[str], list[str]], problems: list[str]) -> list[str]:
    """Leave out, one at a time, a sentence without which the quality stage finds fewer
    problems (an invented date, a note about the task), as long as a whole sentence stays.
    Returns the problems that remain."""
    while len(spans := sentence_spans(item.value)) > 1:
        options = []
        for span in spans:
            rest = without_span(item.value, span)
            options.append((len(left := _reviewed(item, review, rest)), -len(rest), rest, item.value[span[0]:span[1]], left))
        fewest, _, rest, dropped, left = min(options, key=lambda option: option[:4])
        if fewest >= len(problems):
            break
        item.value, item.sentences_dropped, problems = rest, item.sentences_dropped + [dropped], left
    return problems


def _request(fields: list[Field], prompts: list[str], system_prompt: str, seed: int, temperature: float,
             cap: int) -> GenerateText:
    return GenerateText(
        prompts=tuple(prompts), system_prompt=system_prompt, max_new_tokens=cap, temperature=temperature,
        seeds=tuple(seed + i for i in range(len(fields))),
        budgets=tuple(token_budget(f.limit, cap) for f in fields),
        temperatures=tuple(temperature if f.temperature is None else f.temperature for f in fields),
        examples=tuple(f.examples for f in fields),
        # A one-line field runs to its budget (small) rather than stopping at its first line:
        # small models often open with a salutation or an introduction line before the answer.
        stop=("\n\n\n",),
    )


# Words a phrase does not end on: a cut that leaves one of them reads as cut.
DANGLING = frozenset("a an the of for to and or but with your our my their its in on at by from as that this "
                     "is are was be will".split())


def trim_at_sentence_or_word(text: str, limit: int) -> str:
    """Whole sentences when one ends within the limit, else whole words, never ending on
    a word that leaves the phrase open ("Savor the flavors of a") or on a comma."""
    within = complete_sentences(text[:limit])
    if within and len(within) >= limit // 3:
        return within
    return main_clause(text, limit) or close_phrase(trim_at_word_boundary(text, limit))


# Where a long sentence can end early: after a comma, semicolon or dash before its next clause.
CLAUSE_BREAK = re.compile(r"\s*(?:[,;]|\s[-–—])\s")


def main_clause(text: str, limit: int) -> str:
    """The opening clauses of an over-long sentence, closed with a full stop, when they
    fill at least half the limit and hold a few words ("The bedding offers fresh scents,
    transforming every..." -> "The bedding offers fresh scents."); "" otherwise."""
    breaks = [match.start() for match in CLAUSE_BREAK.finditer(text) if limit // 2 <= match.start() < limit]
    if not breaks:
        return ""
    clause = close_phrase(text[: breaks[-1]])
    if len(clause.split()) < 4 or len(clause) + 1 > limit or len(clause) < limit // 2:
        return ""
    return clause if clause[-1] in ".!?" else clause + "."


def close_phrase(text: str) -> str:
    """Drop trailing words that leave a phrase open, and the commas or colons before them."""
    words = text.rstrip(" ,;:-–—").split(" ")
    while len(words) > 1 and words[-1].casefold().strip("\"'“”") in DANGLING:
        words = words[:-1]
        words[-1] = words[-1].rstrip(",;:-–—")
    return " ".join(words).rstrip(" ,;:-–—")


def add_disclaimers(fields: list[Field], name: str, disclaimers: tuple[str, ...]) -> list[Field]:
    """Write the workspace's required disclaimers into each field called `name`, within its
    limit (the shared SDK rule: the body is shortened at a sentence or word boundary)."""
    for item in fields:
        if item.name == name and disclaimers:
            fitted = fit_disclaimers(item.value, disclaimers, item.limit)
            item.value, item.disclaimers_added, item.shortened_for_disclaimers = fitted.text, fitted.added, fitted.shortened
    return fields


def field_report(fields: list[Field]) -> dict:
    report = {
        "limits": {f.name: f.limit for f in fields},
        "regenerated": [f.name for f in fields if f.regenerated],
        "quality_regenerated": [f.name for f in fields if f.quality_regenerated],
        "sentences_dropped": {f.name: f.sentences_dropped for f in fields if f.sentences_dropped},
        "trimmed": [f.name for f in fields if f.trimmed],
    }
    added = list(dict.fromkeys(phrase for f in fields for phrase in f.disclaimers_added))
    if added:
        report["disclaimers_added"] = added
        report["shortened_for_disclaimers"] = [f.name for f in fields if f.shortened_for_disclaimers]
    return report
