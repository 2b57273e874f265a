"""Throughput of the real worker path with dynamic batching versus batch size 1.

Same model, same run, same jobs: 32 text jobs (greedy) and 32 image jobs go through
job_create -> Redis -> a real Celery worker -> the model runtime -> PostgreSQL.
Each mode gets a fresh worker, warmed up with one job so model loading is not timed.
Prints JSON, then a one-line summary.

    make bench                        # or: python bench/bench_batching.py --jobs 32
"""
from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from _setup import flush_broker, setup_django

TEXT_PROMPTS = [
    "Write a headline for a {} sale.", "Describe a {} in one sentence.", "Give a tip about {}.",
    "Name a product made of {}.",
]
TOPICS = ["summer", "winter", "coffee", "garden", "bicycle", "laptop", "wool", "glass"]


def text_inputs(count: int, max_new_tokens: int) -> list[dict]:
    return [
        {"prompt": TEXT_PROMPTS[i % len(TEXT_PROMPTS)].format(TOPICS[i % len(TOPICS)]) + f" (#{i})",
         "max_new_tokens": max_new_tokens}
        for i in range(count)
    ]


def image_inputs(count: int, side: int, steps: int) -> list[dict]:
    return [
        {"prompt": f"A poster of a {TOPICS[i % len(TOPICS)]} (#{i})", "width": side, "height": side,
         "steps": steps, "seed": i}
        for i in range(count)
    ]


def run_mode(use_case: str, inputs: list[dict], batch_size: int, log_dir: Path) -> dict:
    from pressroom.accounts.models import Workspace
    from pressroom.jobs.models import Artifact, Job
    from pressroom.accounts.access import Access
    from pressroom.jobs.services import job_create
    from pressroom_workers.testing import WorkerProcess, wait_for

    flush_broker()
    workspace, _ = Workspace.objects.get_or_create(slug="bench", defaults={"name": "Benchmarks"})
    worker = WorkerProcess(f"bench-{use_case}-{batch_size}", log_dir,
                           PRESSROOM_BATCH_SIZE=str(batch_size), PRESSROOM_BATCH_WAIT_SECONDS="0.5").start()
    try:
        warm = job_create(access=Access.system(workspace), use_case_key=use_case, input=inputs[0])
        wait_for(lambda: Job.objects.get(pk=warm.pk).is_finished, timeout=600, what="warm-up")
        started = time.perf_counter()
        jobs = [job_create(access=Access.system(workspace), use_case_key=use_case, input=data) for data in inputs]
        ids = [job.pk for job in jobs]
        wait_for(lambda: Job.objects.filter(pk__in=ids, status="succeeded").count() == len(ids)
                 or Job.objects.filter(pk__in=ids, status="failed").exists(),
                 timeout=1800, interval=0.1, what="benchmark jobs")
        elapsed = time.perf_counter() - started
    finally:
        worker.stop()
    failed = Job.objects.filter(pk__in=ids).exclude(status="succeeded").count()
    artifacts = list(Artifact.objects.filter(job_id__in=ids))
    tokens = sum(a.generation_params.get("new_tokens", 0) for a in artifacts)
    return {
        "batch_size": batch_size,
        "jobs": len(ids),
        "failed": failed,
        "seconds": round(elapsed, 3),
        "jobs_per_s": round(len(ids) / elapsed, 3),
        "tokens_per_s": round(tokens / elapsed, 2) if tokens else None,
        "model_calls": len({a.generation_params["batch_id"] for a in artifacts}),
        "outputs": {str(a.job.input["prompt"]): a.text or a.file.name for a in artifacts},
    }


def compare(use_case: str, inputs: list[dict], batch_size: int, log_dir: Path) -> dict:
    batched = run_mode(use_case, inputs, batch_size, log_dir)
    single = run_mode(use_case, inputs, 1, log_dir)
    batched_outputs, single_outputs = batched.pop("outputs"), single.pop("outputs")
    # Greedy text must match exactly; image files differ by name only, so compare text.
    same_outputs = batched_outputs == single_outputs if use_case == "core.text" else None
    return {
        "batched": batched,
        "unbatched": single,
        "speedup_jobs_per_s": round(batched["jobs_per_s"] / single["jobs_per_s"], 2),
        "greedy_outputs_identical": same_outputs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--image-side", type=int, default=64)
    parser.add_argument("--image-steps", type=int, default=8)
    parser.add_argument("--only", choices=("text", "image"))
    args = parser.parse_args()
    setup_django()
    import torch

    result = {
        "benchmark": "batching",
        "machine": {"python": platform.python_version(), "cpu_threads": torch.get_num_threads(),
                    "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
        "settings": vars(args),
    }
    with tempfile.TemporaryDirectory() as log_dir:
        if args.only in (None, "text"):
            result["text"] = compare("core.text", text_inputs(args.jobs, args.max_new_tokens), args.batch_size, Path(log_dir))
        if args.only in (None, "image"):
            result["image"] = compare(
                "core.image", image_inputs(args.jobs, args.image_side, args.image_steps), args.batch_size, Path(log_dir)
            )
    print(json.dumps(result, indent=2))
    parts = [
        f"{kind}: {r['batched']['jobs_per_s']} vs {r['unbatched']['jobs_per_s']} jobs/s "
        f"(x{r['speedup_jobs_per_s']}, {r['batched']['model_calls']} vs {r['unbatched']['model_calls']} model calls)"
        for kind, r in result.items() if kind in ("text", "image")
    ]
    print("SUMMARY batching " + "; ".join(parts))


if __name__ == "__main__":
    main()
