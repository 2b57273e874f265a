"""Banned topics, in a marketer's own words ("claims that a product cures a disease",
"party politics"), optionally with example sentences. A sentence whose meaning is close
enough to a topic or one of its examples is flagged or blocked (the topic's action),
with the sentence and the topic as evidence. No keyword list to guess."""
from __future__ import annotations

import numpy as np

from pressroom.safety.checks.base import CheckResult, Evidence, SafetyCheck, Subject, worst_decision
from pressroom.safety.checks.harm import narrowest_unit, scoring_units, shorten, unit_texts
from pressroom.safety.semantic import current_sentence_encoder, embed

TOPIC_ACTIONS = ("flag", "block")
# Example sentences resemble copy far more than a topic's description does (measured on
# the calibration split: at the same similarity, examples flag 2.5 % of clean copy where
# descriptions flag none), so a sentence must be this much closer to an example.
EXAMPLE_MARGIN = 0.1


def topic_phrases(topic: dict) -> list[tuple[str, float]]:
    """(phrase, margin): the description, then each example sentence."""
    return [(topic["topic"], 0.0), *((example, EXAMPLE_MARGIN) for example in topic.get("examples", []))]


class BannedTopicCheck(SafetyCheck):
    name = "topics"

    def run(self, subjects: list[Subject], policy) -> list[CheckResult]:
        topics = list(policy.banned_topics or [])
        if not topics:
            return [CheckResult(self.name, "pass", scored_by="no banned topics") for _ in subjects]
        encoder = current_sentence_encoder()
        phrases = [(index, phrase, margin) for index, topic in enumerate(topics) for phrase, margin in topic_phrases(topic)]
        phrase_vectors = embed([phrase for _, phrase, _ in phrases])
        owners = np.array([index for index, _, _ in phrases])
        margins = np.array([margin for _, _, margin in phrases])
        units = scoring_units(subjects)
        unit_vectors = embed(unit_texts(subjects, units))
        similarity = unit_vectors @ phrase_vectors.T - margins if len(units) else np.zeros((0, len(phrases)))
        # Per unit and topic: its closest phrase (less that phrase's margin).
        per_topic = np.stack([similarity[:, owners == t].max(axis=1) for t in range(len(topics))], axis=1) if len(units) else np.zeros((0, len(topics)))
        results = []
        for index, subject in enumerate(subjects):
            rows = [r for r, unit in enumerate(units) if unit.subject == index]
            results.append(self._result(subject, [units[r] for r in rows], per_topic[rows], topics, policy, encoder.name))
        return results

    def _result(self, subject, units, scores, topics, policy, encoder_name) -> CheckResult:
        threshold = policy.topic_threshold
        best = scores.max(axis=0) if len(scores) else np.zeros(len(topics))
        decisions, evidence = [], []
        for column, topic in enumerate(topics):
            if not len(scores) or best[column] < threshold:
                continue
            row = narrowest_unit(units, scores[:, column], threshold)
            action = topic.get("action", "flag")
            decisions.append(action)
            unit = units[row]
            sentence = subject.text[unit.start : unit.end]
            evidence.append(Evidence(
                unit.start, unit.end, sentence,
                f"banned topic “{topic['topic']}” {scores[row, column]:.2f} ≥ {threshold} ({action}) in “{shorten(sentence)}”", "topic",
            ))
        evidence.sort(key=lambda item: item.start)
        return CheckResult(
            check=self.name,
            decision=worst_decision(decisions),
            scores={topic["topic"]: round(float(value), 4) for topic, value in zip(topics, best)},
            thresholds={"similarity": threshold, "topics": topics},
            evidence=evidence,
            scored_by=f"topic similarity on {encoder_name}",
            reason="; ".join(item.reason for item in evidence),
        )
