"""Every first-party plugin use case through the real worker, with the offline models;
their artifacts are screened and audited like any other."""
import io
import json

import pytest
from PIL import Image

from pressroom.audit.models import AuditEvent
from pressroom.audit.verification import audit_chain_verify
from pressroom.jobs.models import Artifact, Job, JobStatus
from pressroom.jobs.services import job_create
from pressroom_workers.testing import wait_for
from pressroom.accounts.access import Access

pytestmark = [pytest.mark.worker, pytest.mark.models]

CATALOG = [
    {"id": "p1", "name": "Trail Runner 2", "description": "waterproof trail running shoes"},
    {"id": "p2", "name": "Road Racer", "description": "lightweight road running shoes"},
    {"id": "p3", "name": "Espresso Machine", "description": "coffee machine"},
    {"id": "p4", "name": "Milk Frother", "description": "frothing milk for coffee"},
]
JOBS = {
    "marketing.ad_copy": {"product": "Trail Runner 2", "description": "waterproof running shoes", "channels": ["search"], "variants": 1},
    "marketing.social_post": {"topic": "our spring sale", "platforms": ["x"], "hashtags": ["spring sale"], "variants": 1},
    "marketing.email_subject": {"campaign": "Winter coats, 30% off", "variants": 2},
    "marketing.product_description": {"name": "Wool scarf", "attributes": {"material": "recycled wool"}, "variants": 1},
    "design.concept_image": {"product": "Wool scarf", "preset": "preview", "steps": 2, "seed": 3},
    "design.banner": {"product": "Trail shoes", "headline": "Run further", "cta": "Shop now", "preset": "medium_rectangle", "steps": 2},
    "recommendation.personalised": {
        "catalog": CATALOG, "top_k": 2,
        "customers": [{"id": "c1", "name": "Ana", "events": [{"product_id": "p3", "type": "purchase", "at": "2026-11-01T10:00:00Z"}]}],
    },
}


def test_every_plugin_use_case_runs_on_the_real_worker(start_worker, workspace):
    jobs = {key: job_create(access=Access.system(workspace), use_case_key=key, input=data) for key, data in JOBS.items()}
    worker = start_worker(PRESSROOM_PLUGINS_CONFIG=json.dumps({"design": {"max_generation_side": 128}}))
    wait_for(lambda: all(Job.objects.get(pk=j.pk).is_finished for j in jobs.values()), timeout=600, what="plugin jobs")
    wait_for(lambda: not Artifact.objects.filter(status="screening").exists(), timeout=120, what="screening")
    for key, job in jobs.items():
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED, (key, job.error_message, worker.log())
        for artifact in job.artifacts.all():
            assert artifact.status in ("passed", "flagged", "blocked", "rejected"), (key, artifact.status)
            assert artifact.verdicts.exists()
            assert AuditEvent.objects.filter(object_id=str(artifact.pk), action="artifact.screened").exists()

    (ad,) = jobs["marketing.ad_copy"].artifacts.all()
    assert len(ad.data["headline"]) <= 30 and len(ad.data["body"]) <= 90 and len(ad.data["cta"]) <= 15
    assert ad.generation_params["template_key"] == "marketing.ad_copy.system" and ad.model_alias == "text-default"
    emails = list(jobs["marketing.email_subject"].artifacts.order_by("variant_index"))
    assert [a.data["ab_label"] for a in emails] == ["A", "B"] and all(len(a.data["subject"]) <= 60 for a in emails)
    (post,) = jobs["marketing.social_post"].artifacts.all()
    assert len(post.text) <= 280 and post.text.endswith("#SpringSale")

    (banner,) = jobs["design.banner"].artifacts.all()
    with banner.file.open("rb") as handle:
        assert Image.open(io.BytesIO(handle.read())).size == (300, 250)
    assert banner.model_placeholder and banner.data["headline_contrast"] >= 4.5

    (message,) = jobs["recommendation.personalised"].artifacts.all()
    ranked = [r["product_id"] for r in message.data["recommendations"]]
    assert "p3" not in ranked and ranked[0] == "p4"  # bought the espresso machine: the frother comes first
    checks = {v.check_name: v.decision for v in message.verdicts.all()}
    assert checks["catalog_grounding"] == ("flag" if message.data["unknown_items"] else "pass")
    assert audit_chain_verify(workspace_id=workspace.pk).ok
