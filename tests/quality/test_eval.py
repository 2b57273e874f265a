"""bench/quality_eval.py on a tiny labelled file: the figures, the SUMMARY line, the mistakes."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pressroom.safety.evaluation import LabelledSetInvalid
from pressroom.safety.quality_evaluation import evaluate_quality_set

ROOT = Path(__file__).resolve().parents[2]
ROWS = [
    {"text": "Dear [User Name], welcome!", "category": "placeholder", "expected": "review"},
    {"text": "Now 35% off at trucco.com!", "category": "fact", "expected": "review", "brief": {"offer": "20% off"}},
    {"text": "Now 20% off. Shop now.", "category": "clean", "expected": "pass", "brief": "20% off all boots"},
    {"text": "Fresh bread every morning.", "category": "clean", "expected": "pass"},
    {"text": "A lovely loaf of bread.", "category": "missed", "expected": "review"},
]


def write(tmp_path, rows, policy=None):
    path = tmp_path / "tiny.jsonl"
    lines = ([json.dumps({"policy": policy})] if policy is not None else []) + [json.dumps(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_evaluation_scores_recall_and_false_positives(tmp_path):
    result = evaluate_quality_set(write(tmp_path, ROWS))
    assert (result["recall"], result["false_positive_rate"]) == (round(2 / 3, 4), 0.0)
    assert result["by_category"]["placeholder"]["recall"] == 1.0 and result["by_category"]["missed"]["recall"] == 0.0
    assert [m["text"] for m in result["mistakes"]] == ["A lovely loaf of bread."]


def test_a_policy_line_changes_the_result(tmp_path):
    result = evaluate_quality_set(write(tmp_path, ROWS[:1], policy={"quality_enabled": False}))
    assert result["recall"] == 0.0


def test_a_malformed_row_is_refused(tmp_path):
    with pytest.raises(LabelledSetInvalid):
        evaluate_quality_set(write(tmp_path, [{"text": "x", "expected": "maybe"}]))


def test_the_script_prints_json_and_a_summary_line(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "quality_eval.py"), "--labelled", str(write(tmp_path, ROWS)),
                           "--mistakes"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    body, summary = done.stdout.rsplit("SUMMARY", 1)
    report = json.loads(body)
    assert report["recall"] == round(2 / 3, 4) and report["mistakes"][0]["category"] == "missed"
    assert "recall=0.6667" in summary and "false_positive_rate=0.0" in summary
