"""Harmful intent, by meaning rather than by words: threats, incitement, self-harm
encouragement, hate, harassment and sexual content.

Each sentence (and, for a short text of several sentences, the whole text) is embedded
with the offline sentence encoder and scored by a linear probe (multinomial logistic
regression over the six categories and "benign"), trained on the documented exemplars in
`safety/data/harm_exemplars*.json`. Benign copy competes for every sentence (marketing
idioms such as "a killer deal" included), so text unlike anything harmful stays benign
instead of being pushed into the nearest category. The thresholds come from the workspace
policy; evidence names the sentence. Where detoxify also runs, the combined decision is
the most severe of the two.
"""
from __future__ import annotations

import json
import logging
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pressroom.safety.checks.base import MODEL_LOADING, CheckResult, Evidence, SafetyCheck, Subject, worst_decision
from pressroom.safety.models import HARM_CATEGORIES
from pressroom.safety.semantic import (
    SentenceEncoder,
    clause_spans,
    current_sentence_encoder,
    embed,
    fingerprint,
    semantic_text,
    sentence_spans,
)

logger = logging.getLogger(__name__)
EXEMPLARS_FOLDER = Path(__file__).resolve().parents[1] / "data"
# Whole texts up to this length are scored as one unit too (a threat split over two
# sentences); longer texts only sentence by sentence.
WHOLE_TEXT_MAX_CHARS = 600
# The probe's regularisation (chosen on the calibration split, see bench/data/README.md).
PROBE_C = 16.0


@dataclass(frozen=True)
class Unit:
    subject: int
    start: int
    end: int


def class_weights(labels: list[str]) -> dict[str, float]:
    """Each harm category weighs the same, and benign copy as much as all of them together:
    harmful intent is rare in what a workspace screens, so "benign" must not be outvoted
    six to one (measured on the calibration split: a third fewer false positives on clean
    copy at the same recall as equal class weights)."""
    counts = Counter(labels)
    harmful = sum(counts[c] for c in HARM_CATEGORIES)
    weights = {category: harmful / (len(HARM_CATEGORIES) * counts[category]) for category in HARM_CATEGORIES}
    weights["benign"] = harmful / counts["benign"]
    return weights


class HarmProbe:
    """Multinomial logistic regression over the categories and "benign" on normalised
    sentence embeddings."""

    def __init__(self, encoder: SentenceEncoder, exemplars: list[dict]) -> None:
        from sklearn.linear_model import LogisticRegression

        self.encoder = encoder
        texts, labels = training_rows(exemplars)
        vectors = exemplar_vectors(texts, encoder)
        self.model = LogisticRegression(C=PROBE_C, class_weight=class_weights(labels), max_iter=5000).fit(vectors, labels)
        self.columns = [list(self.model.classes_).index(category) for category in HARM_CATEGORIES]
        self.name = f"harm probe on {encoder.name}, {len(texts)} exemplars {fingerprint(*texts)}"

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """(units, categories) probabilities."""
        if not len(vectors):
            return np.zeros((0, len(HARM_CATEGORIES)))
        return self.model.predict_proba(vectors)[:, self.columns]


def exemplar_vectors(texts: list[str], encoder: SentenceEncoder) -> np.ndarray:
    """The exemplars' embeddings, kept on disk beside the encoder's model (keyed by the
    texts and the model file), so a new process trains the probe in a second instead of
    encoding some two thousand sentences first."""
    cache = _exemplar_cache_path(texts, encoder)
    if cache is not None and cache.exists():
        vectors = np.load(cache)
        if vectors.shape[0] == len(texts):
            return vectors
    vectors = encoder.encode(texts)
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            partial = cache.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(partial, vectors)
            partial.replace(cache)
        except OSError:
            logger.info("Cannot keep the harm exemplar embeddings in %s (read-only?)", cache.parent)
    return vectors


def _exemplar_cache_path(texts: list[str], encoder: SentenceEncoder) -> Path | None:
    model = getattr(encoder, "model_path", None)
    if model is None or not model.exists():
        return None
    stat = model.stat()
    return model.parent / "cache" / f"harm-exemplars-{fingerprint(*texts, str(stat.st_size), str(stat.st_mtime_ns))}.npy"


def load_exemplars() -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(EXEMPLARS_FOLDER.glob("harm_exemplars*.json"))]


def training_rows(exemplar_files: list[dict]) -> tuple[list[str], list[str]]:
    rows: dict[str, str] = {}  # text -> label; a sentence listed twice counts once
    for exemplars in exemplar_files:
        for category in HARM_CATEGORIES:
            rows.update(dict.fromkeys(exemplars["categories"].get(category, []), category))
        rows.update(dict.fromkeys(exemplars["benign"], "benign"))
    return list(rows), list(rows.values())


_probe: HarmProbe | None = None


def current_harm_probe() -> HarmProbe:
    """Trained once per process (about two seconds), again if the encoder changes."""
    global _probe
    encoder = current_sentence_encoder()
    probe = _probe
    if probe is not None and probe.encoder is encoder:  # trained already: no lock
        return probe
    with MODEL_LOADING:
        if _probe is None or _probe.encoder is not encoder:
            _probe = HarmProbe(encoder, load_exemplars())
        return _probe


def scoring_units(subjects: list[Subject]) -> list[Unit]:
    """Every sentence of every subject, and short multi-sentence texts whole."""
    units = []
    for index, subject in enumerate(subjects):
        if not any(ch.isspace() for ch in semantic_text(subject.text).strip()):
            continue  # one word or an identifier (a SKU, a colour) carries no intent to score
        spans = sentence_spans(subject.text)
        for start, end in spans:
            units.append(Unit(index, start, end))
            units.extend(Unit(index, a, b) for a, b in clause_spans(subject.text, start, end))
        if len(spans) > 1 and len(subject.text) <= WHOLE_TEXT_MAX_CHARS:
            units.append(Unit(index, spans[0][0], spans[-1][1]))
    return units


def narrowest_unit(units: list[Unit], scores: np.ndarray, limit: float) -> int:
    """Of the units that reach `limit`, the shortest: a clause or sentence as evidence
    rather than the whole text that contains it."""
    reaching = [row for row in range(len(units)) if scores[row] >= limit]
    return min(reaching, key=lambda row: units[row].end - units[row].start)


def shorten(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def threshold_decision(score: float, flag: float | None, block: float | None) -> str:
    if block is not None and score >= block:
        return "block"
    if flag is not None and score >= flag:
        return "flag"
    return "pass"


def unit_texts(subjects: list[Subject], units: list[Unit]) -> list[str]:
    """What the encoder reads for each unit (obfuscation undone; see `semantic_text`)."""
    return [semantic_text(subjects[u.subject].text[u.start : u.end]) for u in units]


class HarmCheck(SafetyCheck):
    name = "harm"

    def prepare(self, subjects: list[Subject]) -> None:
        embed(unit_texts(subjects, scoring_units(subjects)))

    def run(self, subjects: list[Subject], policy) -> list[CheckResult]:
        probe = current_harm_probe()
        units = scoring_units(subjects)
        vectors = embed(unit_texts(subjects, units))
        unit_scores = probe.scores(vectors)
        by_subject: dict[int, list[int]] = {}
        for row, unit in enumerate(units):
            by_subject.setdefault(unit.subject, []).append(row)
        return [
            self._result(subject, [units[r] for r in by_subject.get(i, [])], unit_scores[by_subject.get(i, [])],
                         vectors[by_subject.get(i, [])], probe, policy)
            for i, subject in enumerate(subjects)
        ]

    def _result(self, subject, units, scores, vectors, probe, policy) -> CheckResult:
        flag, block = policy.harm_flag_thresholds, policy.harm_block_thresholds
        best = scores.max(axis=0) if len(scores) else np.zeros(len(HARM_CATEGORIES))
        decisions, evidence = [], []
        for column, category in enumerate(HARM_CATEGORIES):
            if not len(scores):
                break
            score = float(scores[:, column].max())
            decision = threshold_decision(score, flag.get(category), block.get(category))
            if decision == "pass":
                continue
            decisions.append(decision)
            limit = block[category] if decision == "block" else flag[category]
            row = narrowest_unit(units, scores[:, column], limit)
            score, unit = float(scores[row, column]), units[row]
            sentence = subject.text[unit.start : unit.end]
            evidence.append(Evidence(
                unit.start, unit.end, sentence,
                f"{category.replace('_', ' ')} {score:.2f} ≥ {decision} {limit} in “{shorten(sentence)}”", category,
            ))
        evidence.sort(key=lambda item: item.start)
        return CheckResult(
            check=self.name,
            decision=worst_decision(decisions),
            scores={category: round(float(value), 4) for category, value in zip(HARM_CATEGORIES, best)},
            thresholds={"flag": flag, "block": block},
            evidence=evidence,
            scored_by=probe.name,
            reason="; ".join(item.reason for item in evidence),
        )
