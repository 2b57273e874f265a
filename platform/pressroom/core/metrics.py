"""Prometheus metrics.

Web processes: django-prometheus (requests, latency, database) plus what the database
knows at scrape time (jobs by state and use case, the outbox backlog, paused webhooks).
Workers: the histograms and counters below, written by every process into
PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode), so one scrape of
`/metrics` on a host whose web process shares that folder -- the embedded `runplatform`
-- or of `manage.py metrics_exporter` on a worker host sees all of them.
"""
from __future__ import annotations

import ipaddress
import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

SECONDS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)

QUEUE_WAIT = Histogram("pressroom_job_queue_wait_seconds", "From job creation to its start on a worker.", ["use_case"],
                       buckets=SECONDS)
GENERATION = Histogram("pressroom_model_call_seconds", "Time of one batched model call.", ["model"], buckets=SECONDS)
BATCH_SIZE = Histogram("pressroom_model_call_batch_size", "Items sharing one model call.", ["model"],
                       buckets=(1, 2, 4, 8, 16, 32, 64))
TOKENS = Counter("pressroom_generated_tokens", "New tokens generated.", ["model"])
TOKENS_PER_SECOND = Histogram("pressroom_batch_tokens_per_second", "Tokens per second of a worker batch's model calls.",
                              ["model"], buckets=(1, 5, 10, 20, 50, 100, 200, 500, 1000, 5000))
SCREENING = Histogram("pressroom_screening_seconds", "Screening of one batch of artifacts.", buckets=SECONDS)
DECISIONS = Counter("pressroom_screening_decisions", "Screening results per check and decision.", ["check", "decision"])
WEBHOOK_FAILURES = Counter("pressroom_webhook_failed_attempts", "Webhook delivery attempts that failed.")


class DatabaseCollector:
    """Gauges read from the database at scrape time (any process can answer them)."""

    def collect(self):
        from django.db.models import Count

        from pressroom.jobs.models import Job, JobDispatch
        from pressroom.publishing.models import WebhookEndpoint

        jobs = GaugeMetricFamily("pressroom_jobs", "Jobs by state and use case.", labels=["status", "use_case"])
        for row in Job.objects.values("status", "use_case").annotate(n=Count("pk")).order_by():
            jobs.add_metric([row["status"], row["use_case"]], row["n"])
        yield jobs
        yield GaugeMetricFamily("pressroom_outbox_backlog", "Job messages not yet handed to the broker.",
                                value=JobDispatch.objects.count())
        yield GaugeMetricFamily("pressroom_webhooks_paused", "Webhook endpoints the circuit breaker paused.",
                                value=WebhookEndpoint.objects.filter(paused_at__isnull=False).count())


def scrape() -> bytes:
    """Everything this host knows: with a multiprocess folder, every process's metrics
    (web and workers) from it; without one, this process's; then the database gauges."""
    from prometheus_client import REGISTRY

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    database = CollectorRegistry()
    database.register(DatabaseCollector())
    return generate_latest(processes) + generate_latest(database)


def client_allowed(remote_addr: str, authorization: str, token: str | None, allowed_networks: list[str]) -> bool:
    """A scrape needs the configured bearer token, or comes from an allowed network."""
    if token:
        return authorization == f"Bearer {token}"
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in allowed_networks)
