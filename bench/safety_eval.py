"""Recall per category and false positives of the default offline safety configuration
on a labelled set (first line the policy; rows with text, category, expected).

    python bench/safety_eval.py                                  # tests/data/safety_labelled.jsonl
    python bench/safety_eval.py --labelled bench/data/safety_harm_test.jsonl
    python bench/safety_eval.py --labelled PATH --mistakes       # also list every miss

JSON, then a one-line SUMMARY.
"""
import argparse
import json
import sys
from pathlib import Path

from _setup import ROOT  # noqa: F401  (puts platform/ and workers/ on the path)


def main() -> None:
    import os

    import django

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labelled", type=Path, default=Path(ROOT) / "tests" / "data" / "safety_labelled.jsonl")
    parser.add_argument("--mistakes", action="store_true", help="include every misclassified row")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pressroom.settings")
    django.setup()
    from pressroom.safety.evaluation import LabelledSetInvalid, evaluate_labelled_set

    try:
        result = evaluate_labelled_set(args.labelled)
    except (LabelledSetInvalid, OSError) as error:
        sys.exit(f"safety_eval: {error}")
    if not args.mistakes:
        result["mistakes"] = len(result["mistakes"])
    print(json.dumps({"benchmark": "safety_eval", "labelled": str(args.labelled), **result}, indent=2, ensure_ascii=False))
    if result["check_errors"]:
        sys.exit(f"safety_eval: checks failed, so these figures are not a result: {result['check_errors']}")
    print(f"SUMMARY safety_eval texts={result['texts']} recall={result['recall']} precision={result['precision']} "
          f"fp_clean={result['false_positive_rate_clean']} fp_pass={result['false_positive_rate_pass']} "
          f"recall_by_category={json.dumps(result['recall_by_category'])}")


if __name__ == "__main__":
    main()
