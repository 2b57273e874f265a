"""No job lost, duplicated or stuck: SIGKILL the text worker N times mid-job, on the
embedded default (SQLite, the filesystem broker) and on Redis + PostgreSQL, each under
`manage.py runplatform` (supervisord restarts the worker; leases and the sweeper requeue).

Each round submits a text job, waits until it runs, kills the worker and its pool with
SIGKILL at a random moment of the generation, and goes on; at the end every job must have
succeeded exactly once. Prints JSON, then a one-line summary.

    python bench/bench_kills.py --kills 30                      # both brokers
    python bench/bench_kills.py --kills 5 --broker embedded     # a quick look
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for folder in ("platform", "workers"):
    sys.path.insert(0, str(ROOT / folder))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pressroom.settings")

import django  # noqa: E402

django.setup()
import logging  # noqa: E402

logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per poll is noise here
from pressroom_workers.testing import EmbeddedPlatform, wait_for  # noqa: E402

JOB = {"use_case": "core.text", "input": {"prompt": "Write a short story about a lighthouse keeper.", "max_new_tokens": 48}}
LEASE, SWEEP = 6, 1  # short, so 30 kills fit in minutes; the defaults are 60 s and 10 s


def _redis_env(database: str) -> dict[str, str]:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{database}"')
    import redis

    redis.Redis.from_url("redis://127.0.0.1:6379/12").flushdb()
    return {"DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/12",
            "CELERY_VISIBILITY_TIMEOUT": "30", "CELERY_UNACKED_RESTORE_INTERVAL": "2"}


def _round(platform: EmbeddedPlatform, rng: random.Random) -> str:
    job = platform.api("POST", "jobs/", json=JOB)
    wait_for(lambda: platform.api("GET", f"jobs/{job['id']}/")["status"] in ("running", "succeeded"), timeout=300,
             interval=0.2, what="the job to start")
    time.sleep(rng.uniform(0.0, 1.5))
    platform.kill_program("worker-text")
    return job["id"]


def _outcome(platform: EmbeddedPlatform, job_ids: list[str], timeout: float) -> dict:
    def settled() -> bool:
        return all(platform.api("GET", f"jobs/{job_id}/")["status"] in ("succeeded", "failed", "cancelled") for job_id in job_ids)

    try:
        wait_for(settled, timeout=timeout, interval=2, what="every job to settle")
    except TimeoutError:
        pass
    lost = duplicated = stuck = failed = 0
    attempts = []
    for job_id in job_ids:
        job = platform.api("GET", f"jobs/{job_id}/")
        events = platform.api("GET", "audit-events/", params={"object_type": "job", "object_id": job_id, "page_size": 500})
        succeeded = [e for e in events["results"] if e["action"] == "job.succeeded"]
        attempts.append(job["attempts"])
        if job["status"] in ("queued", "running"):
            stuck += 1
        elif job["status"] == "failed":
            failed += 1  # e.g. killed on every one of its attempts: reported, not lost
        if job["status"] == "succeeded" and len(job["artifacts"]) != 1:
            duplicated += 1
        if len(succeeded) > 1:
            duplicated += 1
        if job["status"] == "succeeded" and not succeeded:
            lost += 1
    return {"jobs": len(job_ids), "lost": lost, "duplicated": duplicated, "stuck": stuck, "failed": failed,
            "max_attempts": max(attempts, default=0)}


def run(broker: str, kills: int, seed: int) -> dict:
    rng = random.Random(seed)
    env = {"PRESSROOM_LEASE_SECONDS": str(LEASE), "PRESSROOM_SWEEP_SECONDS": str(SWEEP), "PRESSROOM_REDISPATCH_SECONDS": "10",
           # Every kill costs an attempt; give each job room for the kills it may meet.
           "PRESSROOM_JOB_MAX_ATTEMPTS": "50"}
    if broker == "redis":
        env |= _redis_env("pressroom_bench_kills")
    with tempfile.TemporaryDirectory() as var_dir:
        platform = EmbeddedPlatform(Path(var_dir), **env).start()
        started = time.monotonic()
        try:
            job_ids = [_round(platform, rng) for _ in range(kills)]
            outcome = _outcome(platform, job_ids, timeout=120 + 20 * kills)
        finally:
            platform.stop()
    return {"broker": broker, "kills": kills, **outcome, "seconds": round(time.monotonic() - started, 1),
            "lease_seconds": LEASE, "sweep_seconds": SWEEP}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--broker", choices=("embedded", "redis", "both"), default="both")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    brokers = ("embedded", "redis") if args.broker == "both" else (args.broker,)
    results = [run(broker, args.kills, args.seed) for broker in brokers]
    print(json.dumps({"results": results}, indent=2))
    print("SUMMARY " + "; ".join(f"{r['broker']}: {r['kills']} SIGKILLs, {r['jobs']} jobs, lost {r['lost']}, "
                                 f"duplicated {r['duplicated']}, stuck {r['stuck']}, failed {r['failed']}" for r in results))


if __name__ == "__main__":
    main()
