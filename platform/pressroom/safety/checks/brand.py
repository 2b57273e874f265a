"""Brand rules: banned terms and competitor names (obfuscation-resistant), required
disclaimers per use case, maximum length."""
from __future__ import annotations

import re
from functools import lru_cache

from pressroom.safety.checks.base import CheckResult, Evidence, SafetyCheck, Subject, worst_decision
from pressroom.safety.checks.normalise import LEET, normalise, normalise_with_map


@lru_cache(maxsize=1024)
def term_pattern(term: str) -> re.Pattern[str]:
    """Matches the term as a whole word after normalisation, each letter also as its
    look-alike digit or symbol, letters possibly split by spaces, dots, dashes or
    underscores ("b a d", "b.a.d", "b4d")."""
    letters = [f"[{re.escape(char + LEET.get(char, ''))}]" for char in normalise(term) if not char.isspace()]
    gap = r"[\s\.\-_*·]*"
    return re.compile(r"(?<![a-z0-9])" + gap.join(letters) + r"(?![a-z0-9])")


def find_terms(text: str, terms: list[str], reason: str, category: str) -> list[Evidence]:
    normalised, positions = normalise_with_map(text)
    found = []
    for term in terms:
        if not normalise(term).strip():
            continue
        for match in term_pattern(term).finditer(normalised):
            start, end = positions[match.start()], positions[match.end() - 1] + 1
            found.append(Evidence(start, end, text[start:end], f"{reason} '{term}'", category=category))
    return sorted(found, key=lambda item: item.start)


class BrandCheck(SafetyCheck):
    name = "brand"
    rules_only = True

    def run(self, subjects: list[Subject], policy) -> list[CheckResult]:
        return [self._check(subject, policy) for subject in subjects]

    def _check(self, subject: Subject, policy) -> CheckResult:
        text = subject.text
        banned = find_terms(text, list(policy.banned_terms), "banned term", "banned_term")
        competitors = find_terms(text, list(policy.competitor_names), "competitor name", "competitor")
        decisions, reasons = [], []
        if banned:
            decisions.append("block")
            reasons.append(f"{banned[0].reason} (found '{banned[0].text}')")
        if competitors:
            decisions.append("flag")
            reasons.append(f"{competitors[0].reason} (found '{competitors[0].text}')")
        missing = self._missing_disclaimers(subject, policy)
        if missing:
            decisions.append("flag")
            reasons.append("missing required disclaimer: " + "; ".join(f"'{phrase}'" for phrase in missing))
        if policy.max_chars and len(text) > policy.max_chars:
            decisions.append("flag")
            reasons.append(f"{len(text)} characters, over the limit of {policy.max_chars}")
        return CheckResult(
            check=self.name,
            decision=worst_decision(decisions),
            scores={"banned_terms": len(banned), "competitors": len(competitors), "missing_disclaimers": len(missing), "chars": len(text)},
            thresholds={"max_chars": policy.max_chars},
            evidence=banned + competitors,
            scored_by="brand rules",
            reason="; ".join(reasons),
        )

    @staticmethod
    def _missing_disclaimers(subject: Subject, policy) -> list[str]:
        if subject.is_model_input:
            return []  # disclaimers are required of outputs, not of a job's input or an image's prompt
        required = (policy.required_disclaimers or {}).get(subject.use_case, [])
        haystack = normalise(subject.text)
        return [phrase for phrase in required if normalise(phrase) not in haystack]
