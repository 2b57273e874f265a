"""Text at engine speed: the real text workload through the real worker path, per engine,
beside llama.cpp called directly on the same GGUF with the same prompts and budgets.

Workload: briefs of `marketing.ad_copy`, `marketing.social_post`, `marketing.email_subject`,
`marketing.product_description` and `recommendation.personalised` (bench/data/
quality_briefs.jsonl), default settings, submitted together: job_create -> Redis -> a real
Celery text worker (thread pool, as runplatform runs it) -> the engine -> screening ->
PostgreSQL. For each engine it measures
  - adcopy_job_seconds: one ad-copy job (3 channels x 2 variants) alone, submit to succeeded;
  - jobs_per_minute and tokens_per_second over the whole workload (output tokens from the
    usage ledger the worker writes, first submit to last success);
  - late_job_seconds: an e-mail subject job submitted while the workload is decoding,
    beside the same job's time alone (late_job_alone_seconds).
Then, in the same run, direct_llamacpp_tokens_per_second: llama-cpp-python's `Llama` on the
same GGUF, one completion after another (a single stream, as a developer would call it),
fed the very prompts, seeds and token budgets the use cases ask for (their regenerations
included), timing only the completions.

Engines: llama.cpp (the CPU default), transformers, and openai against llama-cpp-python's
OpenAI-compatible server on loopback (when its server extra is installed). Prints JSON,
then a one-line SUMMARY. `--quick` (one brief per use case, default engine) takes a few
minutes on two cores.

    python bench/bench_text.py --quick
    python bench/bench_text.py --engines llama.cpp,transformers,openai
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import ROOT, flush_broker, setup_django

BRIEFS = ROOT / "bench" / "data" / "quality_briefs.jsonl"
USE_CASES = ("marketing.ad_copy", "marketing.social_post", "marketing.email_subject",
             "marketing.product_description", "recommendation.personalised")
ADCOPY = {"product": "TrailRunner X2 trail shoes", "description": "Grippy lugged sole, waterproof upper, 280 g.",
          "offer": "20% off until Sunday", "channels": ["search", "social", "display"], "variants": 2}
LATE = {"campaign": "Weekend flash sale: 15% off rain jackets", "audience": "Hikers in our newsletter", "variants": 2}
WORKER_THREADS = 4
# How often the harness reads job states: often enough to time jobs of seconds, seldom
# enough not to take CPU from the worker it measures (two cores).
POLL_SECONDS = 0.1


def load_briefs(per_use_case: int) -> list[dict]:
    rows = [json.loads(line) for line in BRIEFS.read_text(encoding="utf-8").splitlines() if line.strip()]
    taken: collections.Counter = collections.Counter()
    chosen = []
    for row in rows:
        if row["use_case"] in USE_CASES and taken[row["use_case"]] < per_use_case:
            chosen.append(row)
            taken[row["use_case"]] += 1
    return chosen


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gguf_path() -> Path:
    from pressroom_workers.runtime.sources import ModelSpec, gguf_file, local_folder

    folder = local_folder(ModelSpec.from_settings("text-default"))
    found = gguf_file(folder) if folder else None
    if found is None:
        raise SystemExit("No GGUF in the text-default model folder: run `python manage.py prepare_models`")
    return found


class LoopbackServer:
    """llama-cpp-python's OpenAI-compatible server on the same GGUF, on loopback."""

    def __init__(self, log_dir: Path) -> None:
        self.port = _free_port()
        self.log = (log_dir / "openai-server.log").open("ab")
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> str:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_path()), "--host", "127.0.0.1",
             "--port", str(self.port), "--n_ctx", "4096"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        import httpx

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/v1/models", timeout=2).status_code == 200:
                    return f"http://127.0.0.1:{self.port}/v1"
            except httpx.HTTPError:
                time.sleep(0.5)
        raise RuntimeError("The llama.cpp server did not start")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


# Engine variants the benchmark knows: an engine name, or llama.cpp with its unified KV
# buffer (shared prompt prefixes evaluated once; sampled text then depends slightly on
# what else is decoded, so it is not the default).
VARIANTS = {"llama.cpp-unified": {"engine": "llama.cpp", "kv_unified": True}}


def engine_models(engine: str, base_url: str | None) -> str:
    alias = {"task": "text-generation", "source": "smollm2-135m-instruct", "engine": engine, **VARIANTS.get(engine, {})}
    if engine == "openai":
        alias.update(base_url=base_url, model="smollm2", max_in_flight=16, timeout=120)
    return json.dumps({"text-default": alias})


def _wait_done(ids: list, timeout: float = 1800) -> dict:
    """Each job's finish time (monotonic, as seen here), once all succeeded or failed."""
    from pressroom.jobs.models import Job

    done: dict = {}
    deadline = time.monotonic() + timeout
    while len(done) < len(ids):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(ids) - len(done)} jobs did not finish")
        for pk, status in Job.objects.filter(pk__in=ids).exclude(pk__in=list(done)).values_list("pk", "status"):
            if status in ("succeeded", "failed", "cancelled"):
                done[pk] = (time.monotonic(), status)
        time.sleep(POLL_SECONDS)
    return done


def _submit(access, use_case: str, data: dict):
    from pressroom.jobs.services import job_create

    return job_create(access=access, use_case_key=use_case, input=data)


def _timed_job(access, use_case: str, data: dict) -> float:
    started = time.monotonic()
    job = _submit(access, use_case, data)
    finished_at, status = _wait_done([job.pk])[job.pk]
    if status != "succeeded":
        raise RuntimeError(f"{use_case} job ended {status}")
    return finished_at - started


def output_tokens(ids: list) -> int:
    from django.db.models import Sum
    from pressroom.usage.models import UsageRecord

    return UsageRecord.objects.filter(job_id__in=ids).aggregate(total=Sum("output_tokens"))["total"] or 0


def run_engine(engine: str, briefs: list[dict], warm_up: list[dict], log_dir: Path, base_url: str | None,
               late_after: float) -> dict:
    from pressroom.accounts.access import Access
    from pressroom.accounts.models import Workspace
    from pressroom.jobs.models import Job
    from pressroom_workers.testing import WorkerProcess

    flush_broker()
    workspace, _ = Workspace.objects.get_or_create(slug=f"bench-text-{engine.replace('.', '')}",
                                                   defaults={"name": f"Text benchmark ({engine})"})
    access = Access.system(workspace)
    worker = WorkerProcess(f"bench-text-{engine}", log_dir, queues="gpu.text,cpu", threads=WORKER_THREADS,
                           PRESSROOM_MODELS=engine_models(engine, base_url)).start(timeout=300)
    try:
        # Not timed: one job of each use case (a brief the workload does not use, so its
        # prompts are not cached ahead) loads every model the workload touches, the
        # recommendation's embedding model too: no model loads inside the timed window.
        for brief in warm_up:
            _timed_job(access, brief["use_case"], brief["input"])
        # The late job once untimed too: its time alone is then measured warm (its prompts
        # cached), the strictest baseline for the late job's time in the crowd.
        _timed_job(access, "marketing.email_subject", LATE)
        late_alone = _timed_job(access, "marketing.email_subject", LATE)
        adcopy = _timed_job(access, "marketing.ad_copy", ADCOPY)
        started = time.monotonic()
        jobs = [_submit(access, brief["use_case"], brief["input"]) for brief in briefs]
        time.sleep(late_after)
        late_started = time.monotonic()
        late = _submit(access, "marketing.email_subject", LATE)
        done = _wait_done([job.pk for job in jobs] + [late.pk])
    finally:
        worker.stop()
    ids = [job.pk for job in jobs]
    workload_seconds = max(done[pk][0] for pk in ids) - started
    tokens = output_tokens(ids)
    provenance = Job.objects.get(pk=late.pk).artifacts.first().generation_params
    return {
        "engine": engine,
        "jobs": len(ids),
        "failed": sum(done[pk][1] != "succeeded" for pk in ids),
        "adcopy_job_seconds": round(adcopy, 2),
        "workload_seconds": round(workload_seconds, 2),
        "jobs_per_minute": round(len(ids) / workload_seconds * 60, 2),
        "output_tokens": tokens,
        "tokens_per_second": round(tokens / workload_seconds, 1),
        "late_job_seconds": round(done[late.pk][0] - late_started, 2),
        "late_job_alone_seconds": round(late_alone, 2),
        "late_job_submitted_after_seconds": late_after,
        "largest_batch_seen": provenance.get("batch_size"),
        "provenance_engine": provenance.get("engine"),
        "jobs_for_direct": [(str(job.pk), job.use_case, job.input, job.base_seed, workspace.pk) for job in jobs],
    }


class DirectLlamaCpp:
    """llama-cpp-python's high-level `Llama` on the same GGUF: one completion at a time."""

    def __init__(self) -> None:
        from llama_cpp import Llama

        # As many threads as the engine uses (Llama's default is half the cores): the fair baseline.
        self.llm = Llama(model_path=str(gguf_path()), n_ctx=4096, n_threads=os.cpu_count(), verbose=False)
        self.tokens = 0
        self.seconds = 0.0

    def complete(self, request) -> list:
        from pressroom.plugins import ModelProvenance, TextOutput

        budgets = request.budgets or (request.max_new_tokens,) * len(request.prompts)
        seeds = request.seeds or (0,) * len(request.prompts)
        outputs = []
        for prompt, budget, seed in zip(request.prompts, budgets, seeds):
            messages = ([{"role": "system", "content": request.system_prompt}] if request.system_prompt else [])
            started = time.perf_counter()
            reply = self.llm.create_chat_completion(
                messages=messages + [{"role": "user", "content": prompt}], max_tokens=budget,
                temperature=request.temperature, top_p=request.top_p, seed=seed, stop=list(request.stop) or None)
            self.seconds += time.perf_counter() - started
            used = reply["usage"]["completion_tokens"]
            self.tokens += used
            outputs.append(TextOutput(
                text=reply["choices"][0]["message"]["content"] or "", seed=seed, new_tokens=used,
                params={"finish_reason": reply["choices"][0]["finish_reason"]},
                provenance=ModelProvenance(alias="direct", source=str(gguf_path()), revision="direct")))
        return outputs


def run_direct(jobs: list) -> dict:
    """Drive each job's use case in process, text served by DirectLlamaCpp; other requests
    (the recommendation's embeddings) by Pressroom's runtime, untimed."""
    from pressroom.jobs.validation import use_case_get
    from pressroom.plugins import GenerateText, RunContext
    from pressroom.plugins.services import prompt_template_resolver
    from pressroom_workers.executor import plugin_settings, required_disclaimers
    from pressroom_workers.runtime import ModelRuntime

    direct, runtime = DirectLlamaCpp(), ModelRuntime()
    for job_id, key, data, seed, workspace_id in jobs:
        use_case = use_case_get(key)
        ctx = RunContext(job_id=job_id, workspace_slug="bench", workspace_id=workspace_id, base_seed=seed,
                         templates=prompt_template_resolver(workspace_id), settings=plugin_settings(use_case.plugin),
                         required_disclaimers=required_disclaimers(workspace_id, key))
        run = use_case.run(use_case.Input.model_validate(data), ctx)
        try:
            request = next(run)
            while True:
                result = direct.complete(request) if isinstance(request, GenerateText) else runtime.execute([request])[0]
                request = run.send(result)
        except StopIteration:
            pass
    return {"tokens": direct.tokens, "seconds": round(direct.seconds, 2),
            "direct_llamacpp_tokens_per_second": round(direct.tokens / direct.seconds, 1)}


def available_engines() -> list[str]:
    import importlib.util

    engines = ["transformers"]
    if importlib.util.find_spec("llama_cpp"):
        engines.insert(0, "llama.cpp")
        if importlib.util.find_spec("llama_cpp.server") and importlib.util.find_spec("uvicorn"):
            engines.append("openai")
    return engines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one brief per use case, the default engine only")
    parser.add_argument("--per-use-case", type=int, default=2)
    parser.add_argument("--engines", default=None,
                        help="comma-separated (llama.cpp, llama.cpp-unified, transformers, openai); "
                             "default: every engine available")
    parser.add_argument("--late-after", type=float, default=3.0, help="seconds into the workload to submit the late job")
    args = parser.parse_args()
    setup_django()
    engines = args.engines.split(",") if args.engines else available_engines()
    if args.quick and not args.engines:
        engines = engines[:1]
    per_use_case = 1 if args.quick else args.per_use_case
    briefs = load_briefs(per_use_case)
    warm_up = list({brief["use_case"]: brief for brief in load_briefs(per_use_case + 1) if brief not in briefs}.values())
    log_dir = Path(tempfile.mkdtemp(prefix="bench-text-"))
    results = []
    for engine in engines:
        if engine == "openai":
            with LoopbackServer(log_dir) as base_url:
                results.append(run_engine(engine, briefs, warm_up, log_dir, base_url, args.late_after))
        else:
            results.append(run_engine(engine, briefs, warm_up, log_dir, None, args.late_after))
    direct = run_direct(results[0].pop("jobs_for_direct"))
    for result in results:
        result.pop("jobs_for_direct", None)
        result["direct_llamacpp_tokens_per_second"] = direct["direct_llamacpp_tokens_per_second"]
        result["vs_direct"] = round(result["tokens_per_second"] / direct["direct_llamacpp_tokens_per_second"], 2)
    import torch

    output = {"benchmark": "text_engines", "quick": args.quick, "briefs": len(briefs),
              "machine": {"cpu_threads": os.cpu_count(), "cuda": torch.cuda.is_available()},
              "engine": results[0]["engine"], "adcopy_job_seconds": results[0]["adcopy_job_seconds"],
              "jobs_per_minute": results[0]["jobs_per_minute"], "tokens_per_second": results[0]["tokens_per_second"],
              "direct_llamacpp_tokens_per_second": direct["direct_llamacpp_tokens_per_second"],
              "late_job_seconds": results[0]["late_job_seconds"], "engines": results, "direct": direct}
    print(json.dumps(output, indent=2))
    parts = "; ".join(f"{r['engine']}: ad copy {r['adcopy_job_seconds']} s, {r['jobs_per_minute']} jobs/min, "
                      f"{r['tokens_per_second']} tok/s (x{r['vs_direct']} direct), late job {r['late_job_seconds']} s "
                      f"(alone {r['late_job_alone_seconds']} s)" for r in results)
    print(f"SUMMARY text {parts}; direct llama.cpp {direct['direct_llamacpp_tokens_per_second']} tok/s")


if __name__ == "__main__":
    main()
