"""The isolation probe: with two workspaces, workspace A's credentials (an API key with every
scope, an admin's session) try every operation in the OpenAPI schema, every dashboard URL and
/media/ against workspace B. A leak is a 2xx on B's object, any of B's identifiers in a
response, or any change to B's rows. Run with -s to see the counts."""
import json
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.generators import SchemaGenerator

from pressroom.accounts.models import ApiKey
from pressroom.audit.models import AuditEvent
from pressroom.jobs.models import Artifact, Job
from pressroom.publishing.models import WebhookDelivery, WebhookEndpoint
from tests.security.conftest import signed_in, with_key

pytestmark = pytest.mark.django_db(transaction=True)

BODIES = {"approve": {"comment": "ok"}, "reject": {"comment": "no"}, "webhooks": {"description": "mine now"}}


def _b_state(b):
    ws = b.workspace
    return (list(Artifact.objects.filter(workspace=ws).order_by("pk").values_list("pk", "status", "text")),
            list(Job.objects.filter(workspace=ws).order_by("pk").values_list("pk", "status", "cancel_requested_at")),
            list(WebhookEndpoint.objects.filter(workspace=ws).values_list("pk", "url", "active", "description")),
            WebhookDelivery.objects.filter(endpoint__workspace=ws).count(),
            list(ApiKey.objects.filter(workspace=ws).values_list("pk", "revoked_at")),
            AuditEvent.objects.filter(workspace=ws).count())


def _b_secrets(b) -> set[str]:
    ids = {str(b.job.pk), b.workspace.slug, b.token.split("_")[1]}  # (integer ids are checked by the object probes)
    return ids | {str(a) for a in Artifact.objects.filter(workspace=b.workspace).values_list("pk", flat=True)}


def _leaks_in(response, secrets: set[str]) -> list[str]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode(errors="replace")
    return sorted(s for s in secrets if s in text)


def _api_targets(b) -> dict[str, list[str]]:
    artifacts = [str(a) for a in Artifact.objects.filter(workspace=b.workspace).values_list("pk", flat=True)]
    return {"artifacts": artifacts, "jobs": [str(b.job.pk)], "webhooks": [str(b.webhook.pk)],
            "campaigns": [str(b.campaign.pk)], "campaign-schedules": [str(b.schedule.pk)]}


def _api_probes(b):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    targets = _api_targets(b)
    for path, operations in schema["paths"].items():
        for method in operations:
            if method not in ("get", "post", "patch", "put", "delete"):
                continue
            resource = path.split("/")[3]
            if "{id}" not in path:
                yield method, path, path, {}
                continue
            if resource not in targets:
                continue  # use cases: the installed catalogue, the same for every workspace
            body = BODIES.get(path.rstrip("/").split("/")[-1], BODIES.get(resource, {}))
            for object_id in targets[resource]:
                yield method, path, path.replace("{id}", object_id), body


def _call(client, method, url, body, headers=None):
    return getattr(client, method)(url, data=json.dumps(body) if method != "get" else None,
                                   content_type="application/json", headers=headers or {})


def _dashboard_urls(a, b):
    """Every dashboard route that takes a workspace: once with B's slug (A's admin is not a
    member there), once with A's slug and B's objects."""
    values_b = {"slug": b.workspace.slug, "job_id": b.job.pk, "artifact_id": b.approved.pk,
                "key_id": ApiKey.objects.filter(workspace=b.workspace).first().pk, "key": "core.text",
                "campaign_id": b.campaign.pk, "fmt": "csv", "endpoint_id": b.webhook.pk}
    values_a_with_b_objects = {**values_b, "slug": a.workspace.slug}
    resolver = get_resolver()
    dashboard = next(p for p in resolver.url_patterns if isinstance(p, URLResolver) and p.app_name == "dashboard")
    for pattern in dashboard.url_patterns:
        if not isinstance(pattern, URLPattern) or "<slug:slug>" not in str(pattern.pattern):
            continue
        names = re.findall(r"<(?:\w+:)?(\w+)>", str(pattern.pattern))
        for values in (values_b, values_a_with_b_objects):
            if values is values_a_with_b_objects and names == ["slug"] or (names == ["slug", "key"] and values is values_a_with_b_objects):
                continue  # A's own pages: nothing of B's to find there (checked by the body scan below)
            yield reverse(f"dashboard:{pattern.name}", kwargs={n: values[n] for n in names})


def test_workspace_a_cannot_reach_workspace_b_anywhere(tenants, capsys):
    a, b = tenants
    before, secrets = _b_state(b), _b_secrets(b)
    callers = {"api key": (with_key(a.token), {}),
               "admin session": (signed_in(a.admin), {"X-Pressroom-Workspace": a.workspace.slug})}
    probes, leaks = {"api": 0, "dashboard": 0, "media": 0, "workspace header": 0}, []

    for caller, (client, headers) in callers.items():
        for method, template, url, body in _api_probes(b):
            response = _call(client, method, url, body, headers)
            probes["api"] += 1
            object_probe = "{id}" in template
            if (object_probe and response.status_code < 400) or _leaks_in(response, secrets):
                leaks.append((caller, method, url, response.status_code, _leaks_in(response, secrets)))

    # A session cannot pick B's workspace with the header.
    viewer = signed_in(a.viewer)
    for url in ("/api/v1/jobs/", "/api/v1/artifacts/", "/api/v1/published/", f"/api/v1/jobs/{b.job.pk}/"):
        response = viewer.get(url, headers={"X-Pressroom-Workspace": b.workspace.slug})
        probes["workspace header"] += 1
        if response.status_code < 400 or _leaks_in(response, secrets):
            leaks.append(("viewer session + B header", "get", url, response.status_code, _leaks_in(response, secrets)))

    admin = signed_in(a.admin)
    for url in _dashboard_urls(a, b):
        for method in ("get", "post"):
            response = getattr(admin, method)(url)
            probes["dashboard"] += 1
            if response.status_code < 400 or _leaks_in(response, secrets):
                leaks.append(("dashboard admin", method, url, response.status_code, _leaks_in(response, secrets)))
    for url in (reverse("dashboard:catalogue", args=[a.workspace.slug]), reverse("dashboard:jobs", args=[a.workspace.slug]),
                reverse("dashboard:review", args=[a.workspace.slug]), reverse("dashboard:api_keys", args=[a.workspace.slug]),
                reverse("dashboard:settings", args=[a.workspace.slug])):
        response = admin.get(url)
        probes["dashboard"] += 1
        if _leaks_in(response, secrets):
            leaks.append(("dashboard admin", "get", url, response.status_code, _leaks_in(response, secrets)))

    for caller, (client, _) in callers.items():
        for artifact in (b.image,):
            response = client.get(artifact.file_url)
            probes["media"] += 1
            if response.status_code != 404:
                leaks.append((caller, "get", artifact.file_url, response.status_code, []))

    changed = _b_state(b) != before
    total = sum(probes.values())
    print("\nISOLATION " + json.dumps({"probes": probes, "total": total, "leaks": len(leaks) + int(changed),
                                        "b_rows_changed": changed}))
    assert leaks == [] and not changed
    assert probes["api"] >= 40 and probes["dashboard"] >= 30
