"""The share of generated variants that pass the quality stage, per use case, on a fixed
set of briefs, through the real worker path: job_create -> Redis -> a real Celery worker
-> the default offline model -> screening (safety and quality) -> PostgreSQL.

Each brief in bench/data/quality_briefs.jsonl is one job with the use case's default
settings. A variant passes quality when none of the quality checks flagged it; the
report also gives each use case's most frequent quality reasons, so a prompt change can be
judged by what it fixes. Run it before and after a change to prompts or decoding, with a
--label for each, and compare. Prints JSON, then a one-line summary.

    python bench/bench_quality.py --label before            # all briefs (long on a CPU)
    python bench/bench_quality.py --quick                   # two briefs per use case
"""
from __future__ import annotations

import argparse
import collections
import json
import tempfile
import time
from pathlib import Path

from _setup import ROOT, flush_broker, setup_django

BRIEFS = ROOT / "bench" / "data" / "quality_briefs.jsonl"


def load_briefs(path: Path, per_use_case: int | None) -> list[dict]:
    briefs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if per_use_case is None:
        return briefs
    taken: collections.Counter = collections.Counter()
    chosen = []
    for brief in briefs:
        if taken[brief["use_case"]] < per_use_case:
            chosen.append(brief)
            taken[brief["use_case"]] += 1
    return chosen


def run_briefs(briefs: list[dict], timeout: float) -> tuple[list, float]:
    from pressroom.accounts.access import Access
    from pressroom.accounts.models import Workspace
    from pressroom.jobs.models import Artifact, Job
    from pressroom.jobs.services import job_create
    from pressroom_workers.testing import WorkerProcess, wait_for

    workspace, _ = Workspace.objects.get_or_create(slug="bench-quality", defaults={"name": "Quality benchmark"})
    access = Access.system(workspace)
    worker = WorkerProcess("bench-quality", Path(tempfile.mkdtemp(prefix="bench-quality-"))).start()
    try:
        started = time.perf_counter()
        jobs = [job_create(access=access, use_case_key=brief["use_case"], input=brief["input"]) for brief in briefs]
        ids = [job.pk for job in jobs]

        def settled() -> bool:
            finished = Job.objects.filter(pk__in=ids, status__in=("succeeded", "failed", "cancelled")).count() == len(ids)
            return finished and not Artifact.objects.filter(job_id__in=ids, status="screening").exists()

        wait_for(settled, timeout=timeout, interval=2, what="every brief's job to finish and be screened")
        return list(Job.objects.filter(pk__in=ids).prefetch_related("artifacts__verdicts")), time.perf_counter() - started
    finally:
        worker.stop()


def _quality_problems(artifact, quality_checks: set[str]) -> list[str]:
    return [verdict.check_name for verdict in artifact.verdicts.all()
            if verdict.check_name in quality_checks and verdict.decision != "pass"]


def first_drafts(job):
    """The job's text variants as the model wrote them (not a reviewer's revisions)."""
    return [artifact for artifact in job.artifacts.all() if artifact.kind == "text" and artifact.revision_of_id is None]


def variant_rows(jobs: list, quality_checks: set[str]) -> list[dict]:
    """Each first-draft text variant with the quality reasons against it, for reading why."""
    return [
        {"use_case": job.use_case, "job": str(job.pk), "text": artifact.text,
         "reasons": [f"{verdict.check_name}: {verdict.reason}" for verdict in artifact.verdicts.all()
                     if verdict.check_name in quality_checks and verdict.decision != "pass"]}
        for job in jobs for artifact in first_drafts(job)
    ]


def report(jobs: list, quality_checks: set[str]) -> dict:
    by_use_case: dict[str, dict] = {}
    for job in jobs:
        entry = by_use_case.setdefault(job.use_case, {"jobs": 0, "failed_jobs": 0, "variants": 0, "quality_pass": 0,
                                                      "review_ready": 0, "reasons": collections.Counter()})
        entry["jobs"] += 1
        entry["failed_jobs"] += job.status != "succeeded"
        for artifact in first_drafts(job):
            problems = _quality_problems(artifact, quality_checks)
            entry["variants"] += 1
            entry["quality_pass"] += not problems
            entry["review_ready"] += artifact.status in ("passed", "approved")
            entry["reasons"].update(problems)
    for entry in by_use_case.values():
        entry["quality_pass_share"] = round(entry["quality_pass"] / entry["variants"], 4) if entry["variants"] else None
        entry["reasons"] = dict(entry["reasons"].most_common(5))
    variants = sum(e["variants"] for e in by_use_case.values())
    passing = sum(e["quality_pass"] for e in by_use_case.values())
    return {"variants": variants, "quality_pass_share": round(passing / variants, 4) if variants else None,
            "by_use_case": by_use_case}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--briefs", type=Path, default=BRIEFS)
    parser.add_argument("--quick", action="store_true", help="two briefs per use case")
    parser.add_argument("--per-use-case", type=int, default=None)
    parser.add_argument("--label", default="current", help="names this run (e.g. before / after a prompt change)")
    parser.add_argument("--timeout", type=float, default=4 * 3600)
    parser.add_argument("--dump", type=Path, help="write every variant's text and quality reasons here (JSON Lines)")
    args = parser.parse_args()
    setup_django()
    flush_broker()
    from pressroom.safety.registry import stage_checks

    briefs = load_briefs(args.briefs, 2 if args.quick else args.per_use_case)
    jobs, seconds = run_briefs(briefs, args.timeout)
    result = {"benchmark": "quality_pass_share", "label": args.label, "briefs": len(briefs),
              "seconds": round(seconds, 1), **report(jobs, {check.name for check in stage_checks("quality")})}
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.dump:
        rows = variant_rows(jobs, {check.name for check in stage_checks("quality")})
        args.dump.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    shares = ", ".join(f"{key.split('.')[-1]} {value['quality_pass_share']}" for key, value in result["by_use_case"].items())
    print(f"SUMMARY quality [{args.label}] {result['quality_pass_share']} of {result['variants']} variants pass quality "
          f"({len(briefs)} briefs; {shares})")


if __name__ == "__main__":
    main()
