"""Shape models for the templates: grouping, highlighted spans, scores. No writes."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import cached_property
from itertools import groupby
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from pressroom.jobs.models import Artifact, Job

logger = logging.getLogger(__name__)


def pretty_json(value: Any) -> str:
    """A job's input as a marketer would read it: indented JSON, accents as written."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def use_cases_by_plugin(use_cases) -> list[tuple[str, list]]:
    ordered = sorted(use_cases, key=lambda u: (u.plugin, u.title))
    return [(plugin, list(items)) for plugin, items in groupby(ordered, key=lambda u: u.plugin)]


def touched_fields(form, trigger: str) -> set[str]:
    """Inline validation speaks only about fields the user has filled in or just left."""
    touched = {trigger} if trigger else set()
    for name in form.fields:
        values = [v for v in form.data.getlist(name) if v.strip()]
        if values:
            touched.add(name)
    return touched


@dataclass
class Span:
    start: int
    end: int
    reasons: list[str]


def _merged_spans(evidence: list[dict], length: int) -> list[Span]:
    spans: list[Span] = []
    for item in sorted(evidence, key=lambda e: (e.get("start", 0), e.get("end", 0))):
        start, end = max(0, int(item.get("start", 0))), min(length, int(item.get("end", 0)))
        if end <= start:
            continue
        reason = item.get("reason", "")
        if spans and start < spans[-1].end:
            spans[-1].end = max(spans[-1].end, end)
            spans[-1].reasons.append(reason)
        else:
            spans.append(Span(start, end, [reason]))
    return spans


def highlight(text: str, evidence: list[dict]) -> SafeString:
    """The text, escaped, with each flagged span wrapped in <mark> carrying its reasons."""
    parts, position = [], 0
    for span in _merged_spans(evidence, len(text)):
        reasons = "; ".join(dict.fromkeys(r for r in span.reasons if r))
        parts.append(escape(text[position:span.start]))
        parts.append(f'<mark class="flagged" tabindex="0" title="{escape(reasons)}" data-reason="{escape(reasons)}">'
                     f"{escape(text[span.start:span.end])}</mark>")
        position = span.end
    parts.append(escape(text[position:]))
    return mark_safe("".join(parts))


@dataclass
class CheckRow:
    name: str
    decision: str
    scored_by: str
    error: str
    scores: list[tuple[str, float, Any]]
    reasons: list[str] = field(default_factory=list)


def _check_rows(artifact: Artifact) -> list[CheckRow]:
    rows = []
    for verdict in artifact.verdicts.all():
        thresholds = verdict.thresholds or {}
        scores = [(name, round(float(value), 3), _threshold_for(thresholds, name))
                  for name, value in sorted((verdict.scores or {}).items()) if isinstance(value, (int, float))]
        rows.append(CheckRow(verdict.check_name, verdict.decision, verdict.scored_by, verdict.error, scores,
                             verdict_reasons(verdict)))
    return rows


def verdict_reasons(verdict) -> list[str]:
    """The check's own reason (some findings, such as a missing disclaimer, have no span),
    then each evidence item's reason that the check's reason does not already say."""
    stated = verdict.reason or ""
    spans = [e.get("reason", "") for e in verdict.evidence or [] if e.get("reason")]
    return list(dict.fromkeys([stated] * bool(stated) + [r for r in spans if r not in stated]))


def _threshold_for(thresholds: dict, name: str) -> Any:
    flag, block = thresholds.get("flag", {}), thresholds.get("block", {})
    if isinstance(flag, dict) and name in flag:
        return f"flag ≥ {flag[name]}, block ≥ {block.get(name, '–')}"
    return thresholds.get(name, "")


@dataclass
class Variant:
    artifact: Artifact
    highlighted: SafeString
    checks: list[CheckRow]
    flagged_reasons: list[str]

    @property
    def label(self) -> str:
        table = self.recommendations
        if table and table.customer_name:
            return f"{table.customer_name} ({table.customer_id})"
        return variant_label(self.artifact.data or {}, self.artifact.variant_index)

    @property
    def limits(self) -> list[str]:
        return limits_used(self.artifact.data or {}, self.artifact.text or "")

    @cached_property
    def recommendations(self) -> RecommendationTable | None:
        return recommendation_table(self.artifact)


def variant(artifact: Artifact) -> Variant:
    evidence = [e for v in artifact.verdicts.all() if v.decision != "pass" for e in v.evidence
                if e.get("end") is not None and e.get("subject", "text") == "text"]
    checks = _check_rows(artifact)
    reasons = [reason for row in checks if row.decision != "pass" for reason in (row.reasons or [row.error or row.name])]
    return Variant(artifact, highlight(artifact.text or "", evidence), checks, list(dict.fromkeys(reasons)))


def variants(artifacts: list[Artifact]) -> list[Variant]:
    return [variant(a) for a in sorted(artifacts, key=lambda a: (a.variant_index, a.revision))]


def expected_variants(job: Job, artifacts: list[Artifact]) -> int:
    requested = job.input.get("variants", 1) if isinstance(job.input, dict) else 1
    return max(len(artifacts), requested if isinstance(requested, int) else 1)


def voice_initial(voice) -> dict[str, Any]:
    if voice is None:
        return {}
    return {"tone": voice.tone, "audience": voice.audience, "words_to_avoid": voice.words_to_avoid,
            "phrases_to_include": voice.phrases_to_include}


def label_timeline(events, artifacts) -> list:
    """Name each artifact event's variant, so a job's timeline reads on its own."""
    names = {str(a.pk): f"variant {a.variant_index + 1}" + (f", revision {a.revision}" if a.revision > 1 else "") for a in artifacts}
    labelled = list(events)
    for event in labelled:
        event.subject = names.get(event.object_id, "") if event.object_type == "artifact" else ""
    return labelled


@dataclass(frozen=True)
class Widget:
    title: str
    html: str


def plugin_widgets(*, workspace_slug: str) -> list[Widget]:
    """What plugins put on the catalogue page (hook "dashboard_widgets", called with the
    workspace's slug, returning (title, template, context) tuples). A widget that fails is
    left out and logged: a plugin never takes the page down."""
    from django.template.loader import render_to_string

    from pressroom.plugins import hooks

    widgets = []
    for hook in hooks.get_hooks("dashboard_widgets"):
        try:
            for title, template, context in hook(workspace=workspace_slug):
                widgets.append(Widget(str(title), render_to_string(template, dict(context))))
        except Exception:  # noqa: BLE001 - third-party code; logged with its traceback
            logger.exception("Dashboard widget hook %r failed; left out", hook)
    return widgets


# -- what a variant is for ------------------------------------------------------------
# Use cases say what a variant is for in its `data`; these are the keys they use today.
PLATFORM_NAMES = {"x": "X", "linkedin": "LinkedIn", "instagram": "Instagram", "facebook": "Facebook", "tiktok": "TikTok"}
FIELD_NAMES = {"cta": "CTA", "url": "URL"}


def _letter(index: Any) -> str | None:
    return chr(ord("A") + index) if isinstance(index, int) and 0 <= index < 26 else None


def _readable(value: Any, names: dict[str, str]) -> str:
    text = str(value)
    return names.get(text.lower(), text.replace("_", " ").capitalize())


def variant_label(data: dict, variant_index: int) -> str:
    """"Search · Variant A", "Instagram · Variant B", "Subject A/B: B", "Customer Ana"; else "Variant n"."""
    if data.get("ab_label"):
        return f"Subject A/B: {data['ab_label']}"
    letter = _letter(data.get("variant"))
    for key in ("channel", "platform"):
        if data.get(key):
            where = _readable(data[key], PLATFORM_NAMES)
            return f"{where} · Variant {letter}" if letter else where
    if data.get("customer_id"):
        return f"Customer {data['customer_id']}"
    return f"Variant {variant_index + 1}"


def limits_used(data: dict, text: str = "") -> list[str]:
    """Each limited field's length against its limit, e.g. "Headline 28/30 chars", in the
    order the fields appear in the text (stored JSON does not keep the use case's order)."""
    limits = data.get("limits")
    if not isinstance(limits, dict):
        return []
    used = []
    where = {name: text.find(data[name]) if isinstance(data.get(name), str) and data[name] in text else len(text)
             for name in limits}
    for name, limit in sorted(limits.items(), key=lambda item: where[item[0]]):
        value = data.get(name)
        if isinstance(value, str) and isinstance(limit, int):
            used.append(f"{_readable(name, FIELD_NAMES)} {len(value)}/{limit} chars")
    # A post's hashtags count against the platform's limit too: the whole text against it.
    if isinstance(data.get("length"), int) and isinstance(data.get("platform_limit"), int):
        used.append(f"Whole post {data['length']}/{data['platform_limit']} chars")
    return used


# -- recommendation results --------------------------------------------------------------
@dataclass
class RankedItem:
    rank: int
    name: str
    product_id: str
    score: float | None
    why: str


@dataclass
class RecommendationTable:
    customer_id: str
    customer_name: str
    items: list[RankedItem]


def _why(item: dict) -> str:
    """The recommender's own reasons where it gives them; else what its score is made of."""
    given = item.get("why") or item.get("reasons")
    if given:
        return "; ".join(given) if isinstance(given, list) else str(given)
    parts = []
    if isinstance(item.get("similarity"), (int, float)):
        parts.append(f"like their history ({item['similarity']:.2f})")
    if isinstance(item.get("popularity"), (int, float)):
        parts.append(f"popularity {item['popularity']:.2f}")
    return ", ".join(parts).capitalize()


def _customer_name(artifact: Artifact, customer_id: str) -> str:
    customers = (artifact.job.input or {}).get("customers") if isinstance(artifact.job.input, dict) else None
    for customer in customers if isinstance(customers, list) else []:
        if isinstance(customer, dict) and str(customer.get("id")) == customer_id:
            return str(customer.get("name") or "")
    return ""


def recommendation_table(artifact: Artifact) -> RecommendationTable | None:
    """A recommendation artifact (customer and ranked items in its data) as a table."""
    data = artifact.data or {}
    ranked = data.get("recommendations")
    if not data.get("customer_id") or not isinstance(ranked, list):
        return None
    customer_id = str(data["customer_id"])
    items = [RankedItem(rank, str(item.get("name", "")), str(item.get("product_id", "")),
                        item.get("score") if isinstance(item.get("score"), (int, float)) else None, _why(item))
             for rank, item in enumerate((i for i in ranked if isinstance(i, dict)), start=1)]
    return RecommendationTable(customer_id, _customer_name(artifact, customer_id), items)
