"""Recall and false positives of the quality stage on a labelled set.

JSON Lines, one row per line: `{"text", "category", "expected": "review" | "pass",
"brief"?, "data"?}`; `brief` is a job input (an object) or a plain-text brief; `data` an
artifact's structured output. An optional first line `{"policy": {...}}` sets SafetyPolicy
fields over the defaults. A `review` row should be flagged, a `pass` row should pass.
Nothing is written to the database: the policy is an unsaved SafetyPolicy.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from pressroom.safety.checks.base import Subject
from pressroom.safety.evaluation import EXPECTED, LabelledSetInvalid, policy_from, read_json_lines
from pressroom.safety.registry import stage_checks
from pressroom.safety.screening import screen

OUTCOME = {("review", "review"): "tp", ("pass", "review"): "fp", ("review", "pass"): "fn", ("pass", "pass"): "tn"}


def load_rows(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    records = read_json_lines(path)
    policy = {}
    if records and isinstance(records[0], dict) and set(records[0]) == {"policy"}:
        policy, records = records[0]["policy"], records[1:]
        if not isinstance(policy, dict):
            raise LabelledSetInvalid(f'{path}: the policy line must be {{"policy": {{...}}}}')
    if not records:
        raise LabelledSetInvalid(f"{path} has no rows to score")
    for number, row in enumerate(records, start=1):
        _check_row(path, number, row)
    return policy, records


def _check_row(path: Path, number: int, row: Any) -> None:
    if not isinstance(row, dict) or not isinstance(row.get("text"), str) or row.get("expected") not in EXPECTED:
        raise LabelledSetInvalid(f'{path}: row {number} needs "text" and "expected" ("review" or "pass")')
    if not isinstance(row.get("category", ""), str):
        raise LabelledSetInvalid(f'{path}: row {number}: "category" must be a string')
    if not isinstance(row.get("brief"), (dict, str, type(None))) or not isinstance(row.get("data", {}), dict):
        raise LabelledSetInvalid(f'{path}: row {number}: "brief" must be an object or a string, "data" an object')


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def subject_of(row: dict[str, Any]) -> Subject:
    return Subject(text=row["text"], label="artifact", use_case=row.get("use_case", ""), data=row.get("data") or {},
                   brief=row.get("brief"))


def evaluate_quality_set(path: Path) -> dict[str, Any]:
    policy_fields, rows = load_rows(path)
    policy = policy_from(policy_fields)
    checks = stage_checks("quality")
    screenings = screen([subject_of(row) for row in rows], policy, checks)
    counts: Counter = Counter()
    by_category: dict[str, Counter] = {}
    flagged_by: Counter = Counter()
    mistakes = []
    for row, screening in zip(rows, screenings):
        predicted = "pass" if screening.decision == "pass" else "review"
        outcome = OUTCOME[(row["expected"], predicted)]
        counts[outcome] += 1
        by_category.setdefault(row.get("category") or "uncategorised", Counter())[outcome] += 1
        flagged_by.update(r.check for r in screening.results if r.decision != "pass")
        if outcome in ("fp", "fn"):
            mistakes.append({"text": row["text"], "category": row.get("category"), "expected": row["expected"],
                             "got": screening.decision, "why": screening.reasons})
    return {
        "rows": len(rows),
        "review_rows": counts["tp"] + counts["fn"],
        "pass_rows": counts["fp"] + counts["tn"],
        "recall": _rate(counts["tp"], counts["tp"] + counts["fn"]),
        "false_positive_rate": _rate(counts["fp"], counts["fp"] + counts["tn"]),
        "precision": _rate(counts["tp"], counts["tp"] + counts["fp"]),
        "counts": dict(counts),
        "by_category": {
            category: {"rows": sum(c.values()), "recall": _rate(c["tp"], c["tp"] + c["fn"]),
                       "false_positive_rate": _rate(c["fp"], c["fp"] + c["tn"])}
            for category, c in sorted(by_category.items())
        },
        "flags_by_check": dict(sorted(flagged_by.items())),
        "checks": [check.name for check in checks],
        "check_errors": sorted({f"{r.check}: {r.error}" for s in screenings for r in s.results if r.error})[:20],
        "mistakes": mistakes,
    }
