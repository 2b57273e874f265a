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
        [sys.executable, "-m", "gunicorn", "pressroom.wsgi:application", "--config", "python:pressroom.gunicorn_conf",
         "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                _wait_until_idle(process.pid, deadline)
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("gunicorn did not start")


def _cpu_seconds(pid: int) -> float:
    """User and system CPU of a process, all its threads (Linux /proc; 0 when it is gone)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        return []


def _database_backends() -> list[int]:
    """The PostgreSQL server processes of the benchmark database's other connections (the web workers')."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return [row[0] for row in cursor.fetchall()]


def _wait_until_idle(server_pid: int, deadline: float) -> None:
    """One web worker answering does not mean all are ready: each loads the screening
    models before it accepts (pressroom.gunicorn_conf), seconds of CPU that must not fall
    inside the measured window. Wait until the server and its workers sit idle."""
    def server_cpu() -> float:
        return sum(_cpu_seconds(pid) for pid in [server_pid, *_children(server_pid)])

    before = server_cpu()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = server_cpu()
        if now - before < 0.05:
            return
        before = now


class CpuMeter:
    """CPU spent by the web server (gunicorn and its workers), the database server processes
    serving it, and this load client, between start() and stop(): on a machine of two cores
    their sum, not the wall clock, says what one submission costs."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid

    def _snapshot(self) -> dict[str, dict[int, float]]:
        server = [self.server_pid, *_children(self.server_pid)]
        return {"server": {pid: _cpu_seconds(pid) for pid in server},
                "postgres": {pid: _cpu_seconds(pid) for pid in _database_backends()}}

    def start(self) -> None:
        self.before, self.client_before = self._snapshot(), time.process_time()

    def stop(self) -> None:
        self.after, self.client_after = self._snapshot(), time.process_time()

    def per_request_ms(self, requests: int) -> dict[str, float]:
        spent = {part: sum(cpu - self.before[part].get(pid, 0.0) for pid, cpu in self.after[part].items())
                 for part in ("server", "postgres")}
        spent["client"] = self.client_after - self.client_before
        return {part: round(seconds / max(requests, 1) * 1000, 2) for part, seconds in spent.items()}


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
        meter = CpuMeter(server.pid)
        meter.start()
        latencies, codes, seconds = load(f"http://127.0.0.1:{port}", token, args.requests, args.concurrency, args.time_limit)
        meter.stop()
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
        "cpu_ms_per_request": meter.per_request_ms(len(latencies)),
    }
    print(json.dumps(result, indent=2))
    print(f"SUMMARY api {result['submissions_per_s']} job submissions/s, p50 {result['latency_ms']['p50']} ms, "
          f"p95 {result['latency_ms']['p95']} ms ({result['requests']} requests, concurrency {args.concurrency}); "
          f"CPU ms per request {result['cpu_ms_per_request']}")


if __name__ == "__main__":
    main()
