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

from django.core.exceptions import ValidationError

from pressroom.safety.checks.base import Subject
from pressroom.safety.models import SafetyPolicy
from pressroom.safety.registry import stage_checks
from pressroom.safety.screening import screen
from pressroom.safety.services import POLICY_FIELDS, merge_thresholds

EXPECTED = ("review", "pass")


class LabelledSetInvalid(ValueError):
    pass


def read_json_lines(path: Path) -> list[Any]:
    """Every non-blank line of a UTF-8 JSON Lines file, parsed; errors name the line."""
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError as error:
        raise LabelledSetInvalid(f"{path} is not UTF-8 text ({error.reason} at byte {error.start})") from error
    records = []
    for number, line in enumerate(lines, start=1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise LabelledSetInvalid(f"{path}: line {number} is not JSON ({error.msg})") from error
    return records


def load_labelled_set(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    records = read_json_lines(path)
    if not records:
        raise LabelledSetInvalid(f"{path} is empty")
    policy = records[0].get("policy") if isinstance(records[0], dict) else None
    if not isinstance(policy, dict):
        raise LabelledSetInvalid(f'{path}: the first line must be {{"policy": {{...}}}}')
    for number, row in enumerate(records[1:], start=2):
        if not isinstance(row, dict) or not isinstance(row.get("text"), str) or row.get("expected") not in EXPECTED:
            raise LabelledSetInvalid(f'{path}: line {number} needs "text" and "expected" ("review" or "pass")')
        if not isinstance(row.get("category", ""), str):
            raise LabelledSetInvalid(f'{path}: line {number}: "category" must be a string')
    if len(records) < 2:
        raise LabelledSetInvalid(f"{path} has a policy line but no rows to score")
    return policy, records[1:]


def policy_from(fields: dict[str, Any]) -> SafetyPolicy:
    """The file's policy over the defaults, validated like a workspace's."""
    unknown = sorted(set(fields) - set(POLICY_FIELDS))
    if unknown:
        raise LabelledSetInvalid(f"Unknown policy settings: {', '.join(unknown)} (known: {', '.join(POLICY_FIELDS)})")
    policy = SafetyPolicy()
    for name, value in merge_thresholds(policy, fields).items():
        setattr(policy, name, value)
    try:
        policy.clean()
    except ValidationError as error:
        problems = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items())
        raise LabelledSetInvalid(f"The policy line is invalid: {problems}") from error
    return policy


def _rate(numerator: int, denominator: int) -> float:
    return round(numerator / max(denominator, 1), 4)


def evaluate_labelled_set(path: Path) -> dict[str, Any]:
    policy_fields, rows = load_labelled_set(path)
    policy = policy_from(policy_fields)
    # The safety stage only: the quality stage has its own evaluation (quality_evaluation.py).
    screenings = screen([Subject(text=row["text"], label="artifact") for row in rows], policy, stage_checks("safety"))
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
        # A check that could not run flags its texts (fail closed), which would count as a
        # catch here: such runs are reported, and the benchmark refuses to call them a result.
        "check_errors": sorted({f"{r.check}: {r.error}" for s in screenings for r in s.results if r.error})[:20],
        "scored_by": {check: sorted({r.scored_by for s in screenings for r in s.results if r.check == check})
                      for check in sorted({r.check for s in screenings for r in s.results})},
        "mistakes": mistakes,
    }
