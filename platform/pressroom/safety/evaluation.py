"""Recall and false positives of the screening stage on a labelled set.

A file in JSON Lines: the first line `{"policy": {...}}` (SafetyPolicy fields over the
defaults), then rows `{"text", "category", "expected": "review" | "pass"}`. A row labelled
`review` should not pass (flag or block); one labelled `pass` should.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from pressroom.safety.checks.base import Subject
from pressroom.safety.models import SafetyPolicy
from pressroom.safety.screening import screen

EXPECTED = ("review", "pass")


class LabelledSetInvalid(ValueError):
    pass


def load_labelled_set(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        raise LabelledSetInvalid(f"{path} is empty")
    records = []
    for number, line in enumerate(lines, start=1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise LabelledSetInvalid(f"{path}: line {number} is not JSON ({error.msg})") from error
    policy = records[0].get("policy") if isinstance(records[0], dict) else None
    if not isinstance(policy, dict):
        raise LabelledSetInvalid(f'{path}: the first line must be {{"policy": {{...}}}}')
    for number, row in enumerate(records[1:], start=2):
        if not isinstance(row, dict) or not isinstance(row.get("text"), str) or row.get("expected") not in EXPECTED:
            raise LabelledSetInvalid(f'{path}: line {number} needs "text" and "expected" ("review" or "pass")')
    return policy, records[1:]


def _rate(numerator: int, denominator: int) -> float:
    return round(numerator / max(denominator, 1), 4)


def evaluate_labelled_set(path: Path) -> dict[str, Any]:
    policy_fields, rows = load_labelled_set(path)
    policy = SafetyPolicy(**policy_fields)
    screenings = screen([Subject(text=row["text"], label="artifact") for row in rows], policy)
    counts: Counter = Counter()
    by_category: dict[str, Counter] = {}
    mistakes = []
    for row, screening in zip(rows, screenings):
        predicted = "pass" if screening.decision == "pass" else "review"
        outcome = {("review", "review"): "tp", ("pass", "review"): "fp", ("review", "pass"): "fn", ("pass", "pass"): "tn"}[
            (row["expected"], predicted)
        ]
        counts[outcome] += 1
        by_category.setdefault(row.get("category", "uncategorised"), Counter())[outcome] += 1
        if outcome in ("fp", "fn"):
            mistakes.append({"text": row["text"], "category": row.get("category"), "expected": row["expected"],
                             "got": screening.decision, "why": screening.reasons})
    clean = by_category.get("clean", Counter())
    return {
        "texts": len(rows),
        "precision": _rate(counts["tp"], counts["tp"] + counts["fp"]),
        "recall": _rate(counts["tp"], counts["tp"] + counts["fn"]),
        "counts": dict(counts),
        "recall_by_category": {
            category: _rate(c["tp"], c["tp"] + c["fn"]) for category, c in sorted(by_category.items()) if c["tp"] + c["fn"]
        },
        "false_positive_rate_by_category": {
            category: _rate(c["fp"], c["fp"] + c["tn"]) for category, c in sorted(by_category.items()) if c["fp"] + c["tn"]
        },
        "false_positive_rate_clean": _rate(clean["fp"], clean["fp"] + clean["tn"]),
        "false_positive_rate_pass": _rate(counts["fp"], counts["fp"] + counts["tn"]),
        "scored_by": {check: sorted({r.scored_by for s in screenings for r in s.results if r.check == check})
                      for check in sorted({r.check for s in screenings for r in s.results})},
        "mistakes": mistakes,
    }
