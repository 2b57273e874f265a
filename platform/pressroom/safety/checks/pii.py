"""Personal data: e-mail addresses, phone numbers (phonenumbers), payment card numbers
(Luhn) and IBANs (python-stdnum). The workspace decides per type: flag, block or redact."""
from __future__ import annotations

import re

import phonenumbers
from stdnum import iban, luhn

from pressroom.safety.checks.base import CheckResult, Evidence, SafetyCheck, Subject, worst_decision

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?![\w-])", re.IGNORECASE)
CARD_CANDIDATE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
IBAN_CANDIDATE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
# Phone numbers without a country code are read as numbers of these regions.
DEFAULT_REGIONS = ("US", "GB", "DE", "FR")
PLACEHOLDERS = {"email": "[EMAIL]", "phone": "[PHONE]", "card": "[CARD NUMBER]", "iban": "[IBAN]"}


def _emails(text: str) -> list[Evidence]:
    return [Evidence(m.start(), m.end(), m.group(), "e-mail address", category="email") for m in EMAIL.finditer(text)]


def _cards(text: str) -> list[Evidence]:
    found = []
    for match in CARD_CANDIDATE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn.is_valid(digits):
            found.append(Evidence(match.start(), match.end(), match.group(), "payment card number (Luhn-valid)", category="card"))
    return found


def _ibans(text: str) -> list[Evidence]:
    return [
        Evidence(m.start(), m.end(), m.group(), "IBAN (checksum valid)", category="iban")
        for m in IBAN_CANDIDATE.finditer(text)
        if iban.is_valid(m.group())
    ]


# The shortest valid national number of DEFAULT_REGIONS has 4 digits (Germany's), so a
# text with fewer digits holds no phone number: skip the (slow) matcher for it.
MIN_PHONE_DIGITS = min(min(phonenumbers.PhoneMetadata.metadata_for_region(r).general_desc.possible_length)
                       for r in DEFAULT_REGIONS)
DIGIT = re.compile(r"\d")


def _phones(text: str, taken: list[Evidence]) -> list[Evidence]:
    found: dict[tuple[int, int], Evidence] = {}
    if len(DIGIT.findall(text)) < MIN_PHONE_DIGITS:
        return []
    for region in DEFAULT_REGIONS:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            span = (match.start, match.end)
            overlaps = any(item.start < match.end and match.start < item.end for item in taken)
            if span not in found and not overlaps:
                found[span] = Evidence(match.start, match.end, match.raw_string, "phone number", category="phone")
    return list(found.values())


def find_pii(text: str) -> list[Evidence]:
    found = _emails(text) + _cards(text) + _ibans(text)
    return sorted(found + _phones(text, found), key=lambda item: item.start)


def redact(text: str, evidence: list[Evidence]) -> str:
    """Replace each span with a placeholder naming what was removed."""
    for item in sorted(evidence, key=lambda e: e.start, reverse=True):
        text = text[: item.start] + PLACEHOLDERS.get(item.category, "[REDACTED]") + text[item.end :]
    return text


class PiiCheck(SafetyCheck):
    name = "pii"
    rules_only = True

    def run(self, subjects: list[Subject], policy) -> list[CheckResult]:
        return [self._check(subject, policy) for subject in subjects]

    def _check(self, subject: Subject, policy) -> CheckResult:
        actions = policy.pii_actions or {}
        evidence = [
            Evidence(e.start, e.end, e.text, e.reason, e.category, actions.get(e.category, "flag"))
            for e in find_pii(subject.text)
        ]
        # Redaction needs a reviewer-free new revision; screening flags the original.
        decisions = ["flag" if item.action == "redact" else item.action for item in evidence]
        counts = {kind: sum(item.category == kind for item in evidence) for kind in PLACEHOLDERS}
        reason = "; ".join(f"{item.reason} ({item.action})" for item in evidence[:5])
        return CheckResult(
            check=self.name,
            decision=worst_decision(decisions),
            scores=counts,
            thresholds={kind: actions.get(kind, "flag") for kind in PLACEHOLDERS},
            evidence=evidence,
            scored_by="pii rules (phonenumbers, python-stdnum)",
            reason=reason,
        )
