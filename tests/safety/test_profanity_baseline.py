"""The offline toxicity baseline computes the package's calibrated probabilities itself
(one matrix product instead of sklearn's per-fold predict_proba): same numbers, faster."""
import json
from pathlib import Path

import numpy as np
from profanity_check import predict_prob
from profanity_check.profanity_check import model

from pressroom.safety.checks.toxicity import ProfanityBaselineScorer, calibrated_linear_proba

LABELLED = Path(__file__).resolve().parents[1] / "data" / "safety_labelled.jsonl"


def _texts() -> list[str]:
    rows = [json.loads(line).get("text") for line in LABELLED.read_text().splitlines() if line.strip()]
    rows = [text for text in rows if text is not None]
    return rows + ["", "Write a tagline for shop number 7", "you are a stupid idiot", "f*** this"]


def test_the_fast_path_is_the_packages_own_probabilities():
    fast = calibrated_linear_proba(model)
    assert fast is not None
    texts = _texts()
    assert len(texts) > 50
    np.testing.assert_allclose(fast(texts), predict_prob(texts), rtol=0, atol=1e-12)


def test_the_scorer_uses_it_and_scores_each_text():
    scores = ProfanityBaselineScorer().score(["you are a stupid idiot", "Fresh bread every morning"])
    assert scores[0]["toxicity"] > 0.8 > 0.2 > scores[1]["toxicity"]
