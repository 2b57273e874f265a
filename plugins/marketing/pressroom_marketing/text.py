"""Cleaning model output and holding it to length limits."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from pressroom.plugins import GenerateText, TextOutput, fit_disclaimers

LABEL = re.compile(r"^\s*(?:[-*#>\d.)\s]+)?(?:headline|body|call to action|cta|subject(?: line)?|preview(?: text)?|post|description)\s*:\s*", re.I)


def clean_line(text: str, *, single_line: bool = True) -> str:
    """Strip labels, quotes and markdown the model adds around the answer."""
    text = text.strip()
    if single_line:
        text = next((line for line in text.splitlines() if line.strip()), "")
    text = LABEL.sub("", text).strip().strip('"“”\'*').strip()
    return re.sub(r"\s+", " ", text) if single_line else text


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
    value: str = ""
    regenerated: bool = False
    trimmed: bool = False
    # Required disclaimers written into this field, and whether its text was cut for them.
    disclaimers_added: list[str] = field(default_factory=list)
    shortened_for_disclaimers: bool = False
    outputs: list[TextOutput] = field(default_factory=list)

    @property
    def over(self) -> bool:
        return len(self.value) > self.limit or not self.value


def write_fields(fields: list[Field], *, system_prompt: str, seed: int, temperature: float, max_new_tokens: int = 96):
    """Generate every field in one request; regenerate the over-long ones once with a
    stricter instruction; trim what is still too long at a word boundary.
    A sub-generator: `yield from write_fields(...)` inside a use case's run."""
    outputs = yield GenerateText(
        prompts=tuple(f.prompt for f in fields), system_prompt=system_prompt, max_new_tokens=max_new_tokens,
        temperature=temperature, seeds=tuple(seed + i for i in range(len(fields))),
    )
    for item, output in zip(fields, outputs):
        item.value, item.outputs = clean_line(output.text, single_line=item.single_line), [output]
    retry = [f for f in fields if f.over]
    if retry:
        outputs = yield GenerateText(
            prompts=tuple(f"{f.prompt}\nAnswer in at most {f.limit} characters. Reply with the text only." for f in retry),
            system_prompt=system_prompt, max_new_tokens=max_new_tokens, temperature=temperature,
            seeds=tuple(seed + 1000 + i for i in range(len(retry))),
        )
        for item, output in zip(retry, outputs):
            candidate = clean_line(output.text, single_line=item.single_line)
            item.regenerated, item.outputs = True, item.outputs + [output]
            if candidate and (len(candidate) <= item.limit or len(candidate) < len(item.value) or not item.value):
                item.value = candidate
    for item in fields:
        if len(item.value) > item.limit:
            item.value, item.trimmed = trim_at_word_boundary(item.value, item.limit), True
    return fields


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
        "trimmed": [f.name for f in fields if f.trimmed],
    }
    added = list(dict.fromkeys(phrase for f in fields for phrase in f.disclaimers_added))
    if added:
        report["disclaimers_added"] = added
        report["shortened_for_disclaimers"] = [f.name for f in fields if f.shortened_for_disclaimers]
    return report
