"""Toxicity, per category, with the workspace's flag and block thresholds.

The scorer is pluggable: workers install detoxify (see pressroom_workers.safety);
where detoxify's weights are not available, the offline baseline `alt-profanity-check`
(scikit-learn, no torch) scores instead. Every result records which model scored it.
Texts are scored in one batch together with their sentences, so evidence names the
sentences that crossed a threshold.
"""
from __future__ import annotations

import re
from typing import Protocol

from pressroom.safety.checks.base import MODEL_LOADING, CheckResult, Evidence, SafetyCheck, Subject, worst_decision

SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


class ToxicityScorer(Protocol):
    name: str

    def score(self, texts: list[str]) -> list[dict[str, float]]: ...


class ProfanityBaselineScorer:
    """alt-profanity-check: a linear model over word n-grams; one 'toxicity' score."""

    name = "alt-profanity-check (offline baseline)"

    def __init__(self) -> None:
        from profanity_check import predict_prob
        from profanity_check.profanity_check import model

        self._predict = calibrated_linear_proba(model) or predict_prob

    def score(self, texts: list[str]) -> list[dict[str, float]]:
        return [{"toxicity": float(p)} for p in self._predict(texts)] if texts else []


def calibrated_linear_proba(model):
    """The package's model is a CalibratedClassifierCV over linear SVMs: the mean, over its
    calibrated folds, of a sigmoid of each fold's decision. Computed here in one matrix
    product it gives the same probabilities as `predict_proba` (a test holds them equal)
    in a tenth of the time, which matters for one short prompt per API request. None when
    the model is not of that shape (another package version): then predict_prob is used."""
    import numpy as np
    from profanity_check.profanity_check import vectorizer
    from scipy.special import expit

    try:
        folds = model.calibrated_classifiers_
        if model.method != "sigmoid" or any(len(fold.calibrators) != 1 for fold in folds):
            return None
        coef = np.vstack([fold.estimator.coef_[0] for fold in folds])
        intercept = np.array([fold.estimator.intercept_[0] for fold in folds])
        a = np.array([fold.calibrators[0].a_ for fold in folds])
        b = np.array([fold.calibrators[0].b_ for fold in folds])
    except (AttributeError, IndexError):
        return None

    def predict(texts: list[str]):
        decisions = vectorizer.transform(texts) @ coef.T + intercept
        return expit(-(a * decisions + b)).mean(axis=1)

    return predict


_scorer: ToxicityScorer | None = None
_scorer_note = ""


def install_toxicity_scorer(scorer: ToxicityScorer, note: str = "") -> None:
    """Workers call this at start-up with the configured detoxify model."""
    global _scorer, _scorer_note
    _scorer, _scorer_note = scorer, note


def current_toxicity_scorer() -> ToxicityScorer:
    global _scorer
    if _scorer is not None:  # every screening asks: no lock once it is loaded
        return _scorer
    with MODEL_LOADING:
        if _scorer is None:
            _scorer = ProfanityBaselineScorer()
        return _scorer


def current_scorer_description() -> str:
    """Without loading a model: the installed scorer, or the baseline a first use would load."""
    if _scorer is None:
        return ProfanityBaselineScorer.name
    return _scorer.name + (f" [{_scorer_note}]" if _scorer_note else "")


def _sentences(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in SENTENCE.finditer(text) if m.group().strip()]


def _decide(scores: dict[str, float], flag: dict, block: dict) -> tuple[str, list[str]]:
    decisions, crossed = [], []
    for category, value in scores.items():
        if value >= block.get(category, 1.01):
            decisions.append("block")
            crossed.append(f"{category} {value:.2f} ≥ block {block[category]}")
        elif value >= flag.get(category, 1.01):
            decisions.append("flag")
            crossed.append(f"{category} {value:.2f} ≥ flag {flag[category]}")
    return worst_decision(decisions), crossed


class ToxicityCheck(SafetyCheck):
    name = "toxicity"

    def __init__(self, scorer: ToxicityScorer | None = None) -> None:
        self._scorer = scorer

    def run(self, subjects: list[Subject], policy) -> list[CheckResult]:
        scorer = self._scorer or current_toxicity_scorer()
        spans = [_sentences(subject.text) for subject in subjects]
        texts = [subject.text for subject in subjects]
        sentence_texts = [subject.text[a:b] for subject, pieces in zip(subjects, spans) for a, b in pieces if len(pieces) > 1]
        scores = scorer.score(texts + sentence_texts)
        whole, by_sentence = scores[: len(texts)], iter(scores[len(texts) :])
        results = []
        for subject, pieces, text_scores in zip(subjects, spans, whole):
            sentence_scores = [next(by_sentence) for _ in pieces] if len(pieces) > 1 else [text_scores] * len(pieces)
            results.append(self._result(subject, pieces, text_scores, sentence_scores, policy, scorer.name))
        return results

    def _result(self, subject, pieces, text_scores, sentence_scores, policy, scorer_name) -> CheckResult:
        flag, block = policy.toxicity_flag_thresholds, policy.toxicity_block_thresholds
        decision, crossed = _decide(text_scores, flag, block)
        evidence = []
        for (start, end), scores in zip(pieces, sentence_scores):
            sentence_decision, sentence_crossed = _decide(scores, flag, block)
            decision = worst_decision([decision, sentence_decision])
            if sentence_crossed:
                evidence.append(Evidence(start, end, subject.text[start:end].strip(), ", ".join(sentence_crossed), "toxicity"))
        reason = "; ".join(crossed) or (evidence[0].reason if evidence else "")
        return CheckResult(
            check=self.name,
            decision=decision,
            scores={k: round(v, 6) for k, v in text_scores.items()},
            thresholds={"flag": flag, "block": block},
            evidence=evidence,
            scored_by=scorer_name + (f" [{_scorer_note}]" if _scorer_note else ""),
            reason=reason,
        )
