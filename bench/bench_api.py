"""Job submissions per second through the REST API (gunicorn, PostgreSQL, Redis) on this
machine, with p50/p95 latency. The load generator runs on loopback, bounded in request
count and time. Prints JSON, then a one-line summary.

    python bench/bench_api.py --requests 400 --concurrency 8
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

from _setup import ROOT, flush_broker, setup_django


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, workers: int, threads: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT / "workers")]),
           "PRESSROOM_API_THROTTLE_RATE": "1000000/min", "DJANGO_ALLOWED_HOSTS": "127.0.0.1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "pressroom.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("gunicorn did not start")


def load(url: str, token: str, total: int, concurrency: int, time_limit: float) -> tuple[list[float], list[int], float]:
    import httpx

    latencies, codes, lock = [], [], threading.Lock()
    counter = iter(range(total))
    deadline = time.monotonic() + time_limit

    def run() -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            for index in counter:
                if time.monotonic() > deadline:
                    return
                body = {"use_case": "core.text", "input": {"prompt": f"Write a tagline for shop number {index}"}}
                started = time.perf_counter()
                response = client.post(f"{url}/api/v1/jobs/", json=body)
                with lock:
                    latencies.append(time.perf_counter() - started)
                    codes.append(response.status_code)

    started = time.perf_counter()
    threads = [threading.Thread(target=run) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, codes, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--time-limit", type=float, default=120.0)
    args = parser.parse_args()
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    setup_django()
    flush_broker()
    from pressroom.accounts.models import Scope, Workspace
    from pressroom.accounts.access import Access
    from pressroom.accounts.services import api_key_create
    from pressroom.audit.services import SYSTEM

    workspace, _ = Workspace.objects.get_or_create(slug="bench-api", defaults={"name": "API benchmark"})
    _, token = api_key_create(access=Access.system(workspace), name="bench", scopes=[Scope.JOBS_WRITE])
    port = free_port()
    server = start_gunicorn(port, args.workers, args.threads)
    try:
        load(f"http://127.0.0.1:{port}", token, 20, 2, 30)  # warm-up (imports, connections)
        latencies, codes, seconds = load(f"http://127.0.0.1:{port}", token, args.requests, args.concurrency, args.time_limit)
    finally:
        server.terminate()
        server.wait(timeout=30)
    ordered = sorted(latencies)
    result = {
        "benchmark": "api_job_submissions",
        "settings": vars(args),
        "requests": len(latencies),
        "status_codes": {str(code): codes.count(code) for code in sorted(set(codes))},
        "seconds": round(seconds, 3),
        "submissions_per_s": round(len(latencies) / seconds, 1),
        "latency_ms": {"p50": round(statistics.median(ordered) * 1000, 1),
                       "p95": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
                       "max": round(ordered[-1] * 1000, 1)},
    }
    print(json.dumps(result, indent=2))
    print(f"SUMMARY api {result['submissions_per_s']} job submissions/s, p50 {result['latency_ms']['p50']} ms, "
          f"p95 {result['latency_ms']['p95']} ms ({result['requests']} requests, concurrency {args.concurrency})")


if __name__ == "__main__":
    main()
