"""The semantic checks on the real offline encoder (all-MiniLM-L6-v2 exported to ONNX):
harmful intent without swear words, banned topics in plain words, the policy that tunes
them (versioned, audited, editable in the dashboard and the API), and their evidence."""
from pathlib import Path

import numpy as np
import pytest
from django.urls import reverse

from pressroom.accounts.access import Access
from pressroom.accounts.models import Role, Scope
from pressroom.audit.models import AuditEvent
from pressroom.jobs.models import Job
from pressroom.jobs.services import artifacts_screen, job_create
from pressroom.safety.checks.base import Subject
from pressroom.safety.checks.harm import HarmCheck
from pressroom.safety.checks.topics import BannedTopicCheck
from pressroom.safety.evaluation import LabelledSetInvalid, evaluate_labelled_set
from pressroom.safety.models import HARM_CATEGORIES, SafetyPolicy, SafetyVerdict
from pressroom.safety.semantic import current_sentence_encoder, encoder_folder
from pressroom.safety.services import InputBlocked, safety_policy_get, safety_policy_update
from tests.factories import member

DATA = Path(__file__).resolve().parents[2] / "bench" / "data"
THREATS = [
    "I know where you live and I will make you pay for that review.",
    "Somebody should burn their store to the ground tonight.",
    "Do everyone a favour and kill yourself.",
    "Those people are animals and should be thrown out of the country.",
]
IDIOMS = [
    "Our summer sale is a killer deal: 30% off every pair of sandals.",
    "Crush your goals with the new TrailRunner X2.",
    "This chocolate fudge cake is to die for.",
    "Shoot your best holiday photos with the Lumix compact.",
    "Our prices are insane this weekend only!",
    "You deserve a treat.",
]


def subjects(*texts: str) -> list[Subject]:
    return [Subject(text=text, label="artifact") for text in texts]


def test_the_onnx_encoder_matches_sentence_transformers_on_the_same_model():
    from sentence_transformers import SentenceTransformer

    texts = ["We ship worldwide.", "I will find you.", "A much longer sentence about trail running shoes and grip."]
    reference = SentenceTransformer(str(encoder_folder().parent), device="cpu").encode(texts, normalize_embeddings=True)
    assert np.abs(current_sentence_encoder().encode(texts) - reference).max() < 1e-4


def test_harmful_intent_without_swear_words_is_caught_and_idioms_pass():
    results = HarmCheck().run(subjects(*THREATS, *IDIOMS), SafetyPolicy())
    assert [r.decision != "pass" for r in results] == [True] * len(THREATS) + [False] * len(IDIOMS)
    categories = [max(r.scores, key=r.scores.get) for r in results[: len(THREATS)]]
    assert categories == ["threat", "incitement", "self_harm", "hate"]


def test_the_evidence_is_the_harmful_sentence():
    text = "Thanks for shopping with us. I know where you live, and you will regret that review. Have a nice day."
    (result,) = HarmCheck().run(subjects(text), SafetyPolicy())
    (evidence,) = [e for e in result.evidence if e.category == "threat"]
    assert text[evidence.start : evidence.end] == "I know where you live, and you will regret that review."
    assert "threat" in result.reason and text[evidence.start : evidence.end] in evidence.reason
    assert "all-minilm-l6-v2 (onnxruntime)" in result.scored_by


def test_per_category_thresholds_decide_flag_or_block():
    text = subjects("Do everyone a favour and kill yourself.")
    lenient = SafetyPolicy(harm_flag_thresholds={c: 1.0 for c in HARM_CATEGORIES}, harm_block_thresholds={c: 1.0 for c in HARM_CATEGORIES})
    strict = SafetyPolicy(harm_block_thresholds={**SafetyPolicy().harm_block_thresholds, "self_harm": 0.2})
    assert HarmCheck().run(text, lenient)[0].decision == "pass"
    assert HarmCheck().run(text, strict)[0].decision == "block"


def test_banned_topics_flag_or_block_by_meaning_with_evidence():
    policy = SafetyPolicy(banned_topics=[
        {"topic": "party politics, elections and political candidates"},
        {"topic": "gambling and betting", "examples": ["Bet on tonight's match and double your money."], "action": "block"},
    ])
    politics, betting, clean = BannedTopicCheck().run(subjects(
        "New arrivals every week. Vote for the Green Party candidate on Thursday!",
        "Place your bets at our partner casino and win big.",
        "Our linen shirts are back in three new colours.",
    ), policy)
    assert (politics.decision, betting.decision, clean.decision) == ("flag", "block", "pass")
    assert politics.evidence[0].text == "Vote for the Green Party candidate on Thursday!"
    assert "party politics" in politics.reason
    assert BannedTopicCheck().run(subjects("Vote for the Green Party."), SafetyPolicy())[0].decision == "pass"


def test_a_blocked_threat_in_a_job_input_is_refused_before_any_model_time(workspace):
    with pytest.raises(InputBlocked) as refused:
        job_create(access=Access.system(workspace), use_case_key="core.text",
                   input={"prompt": "We know where you live and we will hurt your kids."})
    assert "harm" in str(refused.value.field_errors["prompt"])
    assert not Job.objects.filter(workspace=workspace).exists()
    assert AuditEvent.objects.filter(workspace=workspace, action="job.input_blocked").exists()


def test_artifacts_are_screened_by_the_semantic_checks_with_the_policy_version(workspace, make_artifacts):
    safety_policy_update(access=Access.system(workspace), banned_topics=[{"topic": "gambling and casinos"}])
    toxic, topical, clean = make_artifacts(
        "Great jacket. Honestly the world would be better if you just ended it.",
        "Spin the roulette wheel at our online casino tonight.",
        "Our waterproof jacket keeps you dry on every trail.",
    )
    artifacts_screen(artifact_ids=[toxic.pk, topical.pk, clean.pk])
    caught = set(SafetyVerdict.objects.filter(check_name__in=("harm", "topics")).exclude(decision="pass")
                 .values_list("artifact_id", "check_name"))
    assert caught == {(toxic.pk, "harm"), (topical.pk, "topics")}
    version = safety_policy_get(workspace=workspace).version
    assert set(SafetyVerdict.objects.filter(artifact__in=[toxic, topical, clean]).values_list("policy_version", flat=True)) == {version}


def test_policy_changes_raise_the_version_and_are_audited(workspace):
    before = safety_policy_get(workspace=workspace).version
    policy = safety_policy_update(access=Access.system(workspace), banned_topics=[{"topic": "party politics"}], topic_threshold=0.3)
    assert policy.version == before + 1
    event = AuditEvent.objects.filter(workspace=workspace, action="workspace.policy_changed").latest("pk")
    assert event.data["version"] == policy.version and event.data["after"]["banned_topics"] == [{"topic": "party politics"}]


def test_the_dashboard_edits_banned_topics_and_harm_thresholds(client, workspace):
    admin = member(workspace, Role.ADMIN, "ada")
    client.force_login(admin)
    url = reverse("dashboard:settings", args=[workspace.slug])
    form = client.get(url).context["policy_form"]
    data = {name: form[name].value() if form[name].value() is not None else "" for name in form.fields}
    data["auto_approve"] = ""
    data.update(save_policy="1", harm_flag="0.7",
                banned_topics="claims that a product cures a disease | This tea cures diabetes.\nblock: party politics")
    response = client.post(url, {k: v for k, v in data.items() if v != ""} | {"banned_topics": data["banned_topics"]}, follow=True)
    assert response.status_code == 200
    policy = safety_policy_get(workspace=workspace)
    assert policy.banned_topics == [
        {"topic": "claims that a product cures a disease", "action": "flag", "examples": ["This tea cures diabetes."]},
        {"topic": "party politics", "action": "block"},
    ]
    assert policy.harm_flag_thresholds == {c: 0.7 for c in HARM_CATEGORIES}


def test_the_status_page_names_the_scorer_of_every_check(admin_client):
    response = admin_client.get(reverse("pressroom-status"))
    body = response.content.decode()
    assert "Safety scorers" in body and "linear probe on all-minilm-l6-v2 (onnxruntime)" in body
    assert "alt-profanity-check" in body


def test_the_labelled_test_split_meets_the_recall_and_false_positive_targets():
    result = evaluate_labelled_set(DATA / "safety_harm_test.jsonl")
    harm_recall = [result["recall_by_category"][c] for c in HARM_CATEGORIES]
    assert min(harm_recall) >= 0.85 and sum(harm_recall) / len(harm_recall) >= 0.95, result["recall_by_category"]
    assert result["false_positive_rate_clean"] <= 0.05
    assert result["scored_by"]["harm"] and result["scored_by"]["toxicity"]


def test_a_malformed_labelled_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"policy": {}}\n{"text": "hi", "expected": "maybe"}\n')
    with pytest.raises(LabelledSetInvalid, match="line 2"):
        evaluate_labelled_set(bad)


@pytest.mark.parametrize("text", [
    "1mm1grants are v3rm1n and should be sent back.",
    "Immigrants_are_vermin_and_should_be_sent_back",
    "Thanks so much for visiting our lovely little bakery on the corner of Main Street last weekend with your whole "
    "family and your friends from the running club, and anyone who leaves a bad review will be found and hurt.",
])
def test_obfuscation_and_a_harmful_clause_in_a_long_sentence_are_caught(text):
    (result,) = HarmCheck().run(subjects(text), SafetyPolicy())
    assert result.decision != "pass", result.scores
    assert result.evidence[0].text in text


def test_the_reason_names_the_users_sentence_not_training_text():
    text = "Lovely weather today. Do everyone a favour and kill yourself."
    (result,) = HarmCheck().run(subjects(text), SafetyPolicy())
    assert "“Do everyone a favour and kill yourself.”" in result.reason and "close to" not in result.reason


def test_a_flagged_input_is_shown_on_the_job_and_its_results_are_never_auto_approved(workspace, make_artifacts):
    from pressroom.api.serializers import JobSerializer
    from pressroom.jobs.models import Artifact

    safety_policy_update(access=Access.system(workspace), auto_approve=True,
                         harm_block_thresholds={c: 1.0 for c in HARM_CATEGORIES})
    job = job_create(access=Access.system(workspace), use_case_key="core.text",
                     input={"prompt": "Anyone who leaves a bad review will be found and hurt."})
    screening = JobSerializer(job).data["input_screening"]
    assert screening["decision"] == "flag" and "threat" in screening["reasons"][0]
    from pressroom.jobs import services as job_services
    from pressroom.plugins import ArtifactDraft, ModelProvenance

    job_services.job_start(job=job, worker="w")
    provenance = ModelProvenance(alias="text-default", source="/m", revision="sha256:x")
    job_services.job_succeed(job=job, drafts=[ArtifactDraft(kind="text", variant_index=0, text="Our shoes are comfy.",
                                                            params={}, provenance=provenance)])
    artifacts_screen(artifact_ids=list(job.artifacts.values_list("pk", flat=True)))
    assert set(Artifact.objects.filter(job=job).values_list("status", flat=True)) == {"passed"}


def test_a_labelled_file_with_a_broken_policy_is_refused_not_scored(tmp_path):
    for policy in ('{"bogus": 1}', '{"harm_flag_thresholds": {"threat": 7}}', '{"banned_topics": "gambling"}'):
        bad = tmp_path / "bad.jsonl"
        bad.write_text('{"policy": %s}\n{"text": "hi", "expected": "pass"}\n' % policy)
        with pytest.raises(LabelledSetInvalid):
            evaluate_labelled_set(bad)


def test_with_worker_input_screening_the_request_accepts_and_the_worker_blocks_before_model_time(workspace, settings):
    from pressroom.safety.services import jobs_input_rescreen

    settings.PRESSROOM = {**settings.PRESSROOM, "SEMANTIC_INPUT_SCREENING": "worker"}
    job = job_create(access=Access.system(workspace), use_case_key="core.text",
                     input={"prompt": "We know where you live and we will hurt your kids."})
    assert not SafetyVerdict.objects.filter(job=job, check_name="harm").exists()
    blocked = jobs_input_rescreen(jobs=[job])
    assert "harm" in blocked[job.pk] and "threat" in blocked[job.pk]
