"""What the safety stage costs: texts per second through the whole screening stage
(every core check, the workspace policy with banned topics), batched versus one text at a
time, with and without the semantic checks (harm, topics), beside the time the default
text model takes to write the same texts, all in one run.

    python bench/bench_screening.py              # JSON, then a one-line SUMMARY
    python bench/bench_screening.py --texts 64

Texts come from the labelled sets in bench/data (harmful, borderline and clean copy, the
mix a workspace screens). Generation: the worker runtime with the default offline text
model, sampled like a marketing field (64 new tokens), one batched call.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from _setup import ROOT


def load_texts(count: int) -> tuple[dict, list[str]]:
    from pressroom.safety.evaluation import load_labelled_set

    policy, rows = load_labelled_set(ROOT / "bench" / "data" / "safety_harm_test.jsonl")
    texts = [row["text"] for row in rows]
    return policy, (texts * (count // len(texts) + 1))[:count]


def screening_rate(texts: list[str], policy, checks, *, batched: bool) -> float:
    from pressroom.safety.checks.base import Subject
    from pressroom.safety.screening import screen
    from pressroom.safety.semantic import install_sentence_encoder, current_sentence_encoder

    install_sentence_encoder(current_sentence_encoder())  # empties the embedding cache: no text is pre-encoded
    subjects = [Subject(text=text, label="artifact") for text in texts]
    started = time.perf_counter()
    if batched:
        screen(subjects, policy, checks)
    else:
        for subject in subjects:
            screen([subject], policy, checks)
    return len(texts) / (time.perf_counter() - started)


def generation_seconds_per_text(count: int) -> dict:
    from pressroom.plugins.runtime_requests import GenerateText
    from pressroom_workers.runtime.engine import get_runtime

    runtime = get_runtime()
    prompts = tuple(f"Write a short ad headline for product number {i}, a trail running shoe." for i in range(count))
    request = GenerateText(prompts=prompts, max_new_tokens=64, temperature=0.8, seeds=tuple(range(count)))
    runtime.execute([GenerateText(prompts=prompts[:1], max_new_tokens=4)])  # load the model untimed
    started = time.perf_counter()
    runtime.execute([request])
    seconds = time.perf_counter() - started
    return {"texts": count, "seconds": round(seconds, 3), "seconds_per_text": round(seconds / count, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=128)
    parser.add_argument("--generate", type=int, default=8, help="texts the model writes for the comparison")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pressroom.settings")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import django

    django.setup()
    from pressroom.safety.checks.harm import current_harm_probe
    from pressroom.safety.models import SafetyPolicy
    from pressroom.safety.registry import all_checks
    from pressroom.safety.services import SEMANTIC_CHECKS

    policy_fields, texts = load_texts(args.texts)
    policy = SafetyPolicy(**policy_fields)
    with_semantic = all_checks()
    without_semantic = [check for check in with_semantic if check.name not in SEMANTIC_CHECKS]
    current_harm_probe()  # load models untimed
    screening_rate(texts[:4], policy, with_semantic, batched=True)
    rates = {
        "with_semantic_batched": screening_rate(texts, policy, with_semantic, batched=True),
        "with_semantic_one_at_a_time": screening_rate(texts, policy, with_semantic, batched=False),
        "without_semantic_batched": screening_rate(texts, policy, without_semantic, batched=True),
        "without_semantic_one_at_a_time": screening_rate(texts, policy, without_semantic, batched=False),
    }
    generation = generation_seconds_per_text(args.generate)
    screening_seconds = 1 / rates["with_semantic_batched"]
    result = {
        "benchmark": "screening",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "texts": len(texts),
        "texts_per_second": {name: round(rate, 1) for name, rate in rates.items()},
        "batched_over_one_at_a_time": round(rates["with_semantic_batched"] / rates["with_semantic_one_at_a_time"], 2),
        "semantic_cost_ratio": round(rates["without_semantic_batched"] / rates["with_semantic_batched"], 2),
        "generation": generation,
        "screening_share_of_generation": round(screening_seconds / generation["seconds_per_text"], 4),
    }
    print(json.dumps(result, indent=2))
    print(f"SUMMARY screening batched={result['texts_per_second']['with_semantic_batched']}/s "
          f"one_at_a_time={result['texts_per_second']['with_semantic_one_at_a_time']}/s "
          f"without_semantic={result['texts_per_second']['without_semantic_batched']}/s "
          f"share_of_generation={result['screening_share_of_generation']}")


if __name__ == "__main__":
    main()
