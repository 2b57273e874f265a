"""Precision and recall of the screening stage on a labelled set (tests/data).

A text labelled `review` should not pass (flag or block); one labelled `pass` should.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from pressroom.safety.checks.base import Subject
from pressroom.safety.models import SafetyPolicy
from pressroom.safety.screening import screen


def load_labelled_set(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return lines[0]["policy"], lines[1:]


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
        by_category.setdefault(row["category"], Counter())[outcome] += 1
        if outcome in ("fp", "fn"):
            mistakes.append({"text": row["text"], "expected": row["expected"], "got": screening.decision, "why": screening.reasons})
    precision = counts["tp"] / max(counts["tp"] + counts["fp"], 1)
    recall = counts["tp"] / max(counts["tp"] + counts["fn"], 1)
    scorers = sorted({r.scored_by for s in screenings for r in s.results if r.check == "toxicity"})
    return {
        "texts": len(rows),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "counts": dict(counts),
        "recall_by_category": {
            category: round(c["tp"] / max(c["tp"] + c["fn"], 1), 4) for category, c in by_category.items() if category != "clean"
        },
        "false_positive_rate_clean": round(by_category.get("clean", Counter())["fp"] / max(sum(by_category.get("clean", Counter()).values()), 1), 4),
        "toxicity_scored_by": scorers,
        "mistakes": mistakes,
    }
