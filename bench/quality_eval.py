"""Recall and false positives of the quality stage (rules, no model) on a labelled set.

    python bench/quality_eval.py                                     # bench/data/quality_labelled.jsonl
    python bench/quality_eval.py --labelled bench/data/quality_labelled.jsonl --split test
    python bench/quality_eval.py --labelled PATH --mistakes          # also list every miss

Rows: {"text", "category", "expected": "pass" | "review", "brief"?: object | string, "data"?, "split"?};
an optional first line {"policy": {...}}. Runs the real quality checks through the real
screen() with an unsaved default SafetyPolicy: no database is touched. JSON, then a SUMMARY line.
"""
import argparse
import json
import sys
import tempfile
from pathlib import Path

from _setup import ROOT  # noqa: F401  (puts platform/ and workers/ on the path)


def _only_split(path: Path, split: str) -> Path:
    """A temporary copy of the file with the policy line and the rows of one split."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    kept = [line for line in lines if "policy" in json.loads(line) or json.loads(line).get("split") == split]
    handle = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8")
    handle.write("\n".join(kept) + "\n")
    handle.close()
    return Path(handle.name)


def main() -> None:
    import os

    import django

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labelled", type=Path, default=Path(ROOT) / "bench" / "data" / "quality_labelled.jsonl")
    parser.add_argument("--split", help="score only rows whose \"split\" is this (e.g. test)")
    parser.add_argument("--mistakes", action="store_true", help="list every misclassified row")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pressroom.settings")
    django.setup()
    from pressroom.safety.evaluation import LabelledSetInvalid
    from pressroom.safety.quality_evaluation import evaluate_quality_set

    try:
        path = _only_split(args.labelled, args.split) if args.split else args.labelled
        result = evaluate_quality_set(path)
    except (LabelledSetInvalid, OSError, ValueError) as error:
        sys.exit(f"quality_eval: {error}")
    if not args.mistakes:
        result["mistakes"] = len(result["mistakes"])
    print(json.dumps({"benchmark": "quality_eval", "labelled": str(args.labelled), "split": args.split or "all", **result},
                     indent=2, ensure_ascii=False))
    if result["check_errors"]:
        sys.exit(f"quality_eval: checks failed, so these figures are not a result: {result['check_errors']}")
    per_category = {name: c["recall"] if c["recall"] is not None else c["false_positive_rate"]
                    for name, c in result["by_category"].items()}
    print(f"SUMMARY quality_eval rows={result['rows']} recall={result['recall']} "
          f"false_positive_rate={result['false_positive_rate']} precision={result['precision']} "
          f"by_category={json.dumps(per_category)}")


if __name__ == "__main__":
    main()
