"""/metrics in Prometheus format, scraped and parsed with prometheus_client's parser:
web metrics, the database gauges, what worker processes wrote to the multiprocess folder,
and who may scrape."""
import subprocess
import sys

from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from pressroom.accounts.access import Access
from pressroom.jobs.services import job_create
from pressroom.publishing.services import webhook_endpoint_create


def samples(response) -> dict:
    assert response.status_code == 200, response.content
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


def test_metrics_show_jobs_by_state_the_outbox_and_paused_webhooks(client, workspace):
    job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "Hello there"})
    job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "Hello again"})
    endpoint = webhook_endpoint_create(access=Access.system(workspace), url="https://93.184.216.34/h", events=["job.failed"])
    type(endpoint).objects.filter(pk=endpoint.pk).update(paused_at="2026-01-01T00:00:00Z")
    found = samples(client.get(reverse("metrics")))
    assert value(found, "pressroom_jobs", status="queued", use_case="core.text") == 2
    assert value(found, "pressroom_webhooks_paused") == 1
    assert value(found, "pressroom_outbox_backlog") is not None
    assert any(name == "django_http_requests_total_by_method_total" for name, _ in found)


def test_screening_decisions_are_counted_per_check(client, workspace):
    from pressroom.jobs import services as job_services
    from pressroom.plugins import ArtifactDraft, ModelProvenance

    before = value(samples(client.get(reverse("metrics"))), "pressroom_screening_decisions_total", check="harm", decision="pass") or 0
    job = job_create(access=Access.system(workspace), use_case_key="core.text", input={"prompt": "Write copy"})
    job_services.job_start(job=job, worker="w")
    provenance = ModelProvenance(alias="text-default", source="/m", revision="sha256:x")
    job_services.job_succeed(job=job, drafts=[ArtifactDraft(kind="text", variant_index=0, text="Our linen shirts are back.",
                                                            params={}, provenance=provenance)])
    job_services.artifacts_screen(artifact_ids=list(job.artifacts.values_list("pk", flat=True)))
    found = samples(client.get(reverse("metrics")))
    assert value(found, "pressroom_screening_decisions_total", check="harm", decision="pass") == before + 1
    assert value(found, "pressroom_screening_seconds_count") >= 1


def test_worker_processes_metrics_reach_the_scrape_through_the_multiprocess_folder(client, tmp_path, monkeypatch, db):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    worker = ("from pressroom_workers.metrics import record_model_step\n"
              "from pressroom.plugins.runtime_requests import ModelProvenance, TextOutput\n"
              "from pressroom_workers.runtime.engine import ModelCall\n"
              "p = ModelProvenance(alias='text-default', source='/m', revision='r')\n"
              "record_model_step([ModelCall('text-default', 4, 2.0)], [[TextOutput('hi', 1, 30, {}, p)] * 4])\n")
    subprocess.run([sys.executable, "-c", worker], check=True, env={**__import__("os").environ, "PYTHONPATH": ":".join(sys.path)})
    found = samples(client.get(reverse("metrics")))
    assert value(found, "pressroom_generated_tokens_total", model="text-default") == 120
    assert value(found, "pressroom_model_call_batch_size_sum", model="text-default") == 4
    assert value(found, "pressroom_batch_tokens_per_second_sum", model="text-default") == 60


def test_only_allowed_networks_or_the_token_may_scrape(client, settings, db):
    assert client.get(reverse("metrics"), REMOTE_ADDR="203.0.113.9").status_code == 403
    settings.PRESSROOM = {**settings.PRESSROOM, "METRICS_TOKEN": "s3cret"}
    assert client.get(reverse("metrics")).status_code == 403  # the token is needed, even on loopback
    assert client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer s3cret", REMOTE_ADDR="203.0.113.9").status_code == 200
