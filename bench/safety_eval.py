"""Precision and recall of the default offline safety configuration on tests/data.

    python bench/safety_eval.py      # JSON, then a one-line summary
"""
import json
from pathlib import Path

from _setup import ROOT  # noqa: F401  (puts platform/ and workers/ on the path)


def main() -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pressroom.settings")
    django.setup()
    from pressroom.safety.evaluation import evaluate_labelled_set

    result = evaluate_labelled_set(Path(ROOT) / "tests" / "data" / "safety_labelled.jsonl")
    print(json.dumps({"benchmark": "safety_eval", **result}, indent=2, ensure_ascii=False))
    print(f"SUMMARY safety_eval precision={result['precision']} recall={result['recall']} "
          f"texts={result['texts']} by={result['toxicity_scored_by']}")


if __name__ == "__main__":
    main()
