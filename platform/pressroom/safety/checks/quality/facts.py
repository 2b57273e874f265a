"""Facts the brief does not give: a web address, an e-mail address, a price, a percentage,
a date or year, a measurement (350 ml, 10-year, 800 lumens), a phone number written into the
copy but absent from the job input."""
from __future__ import annotations

import re

from pressroom.safety.checks.base import Evidence, Subject
from pressroom.safety.checks.quality.base import QualityCheck, brief_text, setting

I = re.IGNORECASE
FACT_TYPES = ("url", "email", "price", "percentage", "date", "measurement", "phone")
# Units of a product claim: size, weight, volume, power, light, capacity, duration of a promise.
_UNIT = (r"(?:mm|cm|m|km|inch(?:es)?|ft|feet|ml|cl|l|litres?|liters?|g|kg|grams?|kilos?|oz|lbs?"
         r"|mah|wh|kwh|w|watts?|v|volts?|lm|lumens?|k|kelvin|gb|tb|mb|mpx|mp|megapixels?|hours?|hrs?|years?|yrs?)")
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?"
          r"|nov(?:ember)?|dec(?:ember)?)")
_TLD = r"(?:com|net|org|io|co|uk|de|fr|es|it|nl|shop|store|app|ai|biz|info|us|eu|online|site|ly)"
# Order matters: each span is masked once found, so a date is never also read as a phone number.
PATTERNS: list[tuple[str, re.Pattern, str]] = [
    ("email", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), "an e-mail address not in the brief"),
    ("url", re.compile(rf"\b(?:https?://|www\.)[^\s<>\"'()\[\]]+|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.{_TLD}\b(?:/[^\s]*)?",
                       I), "a web address not in the brief"),
    ("date", re.compile(rf"\b\d{{4}}-\d{{1,2}}-\d{{1,2}}\b|\b\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}}\b"
                        rf"|\b{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?"
                        rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b(?:,?\s+\d{{4}})?"
                        r"|\b(?:19|20)\d{2}\b", I), "a date not in the brief"),
    ("price", re.compile(r"(?:[£$€¥₹]|\b(?:USD|EUR|GBP|CHF|AUD|CAD|US\$)\s?)\s?\d[\d,]*(?:\.\d+)?"
                         r"|\b\d[\d,]*(?:[.,]\d+)?\s?(?:€|£|\$|(?:USD|EUR|GBP|dollars?|euros?|pounds?|bucks)\b)", I),
     "a price not in the brief"),
    ("percentage", re.compile(r"\b\d+(?:[.,]\d+)?\s?(?:%|percent\b|per cent\b)", I), "a percentage not in the brief"),
    ("measurement", re.compile(rf"\b\d+(?:[.,]\d+)?(?:\s?-\s?|\s)?{_UNIT}\b", I), "a measurement not in the brief"),
    ("phone", re.compile(r"(?<![\w.])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,5}){1,4}(?![\w.%])"),
     "a phone number not in the brief"),
]
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _numbers(text: str) -> set[str]:
    """Numbers as written without separators or trailing zeros: '1,299.00' -> '1299'."""
    found = set()
    for raw in NUMBER.findall(text):
        plain = raw.replace(",", "")
        found.add(plain.rstrip("0").rstrip(".") if "." in plain else plain)
    return found


def _domain(address: str) -> str:
    address = re.sub(r"^(?:https?://)?(?:www\.)?", "", address.casefold())
    return address.split("/")[0].rstrip(".,;:!?")


# Kinds whose number only counts as given where the brief gives it as the same kind (or as a
# bare number): "10% off" does not ground "$10", nor "30 L" a "30%".
QUANTITIES = ("price", "percentage", "measurement")


class _Brief:
    def __init__(self, brief) -> None:
        self.text = brief_text(brief)
        self.folded = self.text.casefold()
        self.numbers = _numbers(self.text)
        self.digits = re.sub(r"\D", "", self.text)
        self.domains = {_domain(m.group()) for m in PATTERNS[1][1].finditer(self.text)}
        spans = facts(self.text, FACT_TYPES)
        self.numbers_as = {kind: set().union(*(_numbers(value) for k, _, _, value, _ in spans if k == kind))
                           for kind in QUANTITIES}
        quantities = [(start, end) for kind, start, end, *_ in spans if kind in QUANTITIES]
        self.bare_numbers = _numbers(_masked(self.text, quantities))

    def grounds(self, kind: str, value: str) -> bool:
        if kind == "email":
            return value.casefold() in self.folded
        if kind == "url":
            return _domain(value) in self.domains or _domain(value) in self.folded
        if kind == "phone":
            return re.sub(r"\D", "", value) in self.digits
        months = re.findall(_MONTH, value, I)
        if kind == "date" and months and not all(m.casefold()[:3] in self.folded for m in months):
            return False
        if kind in QUANTITIES:
            return _numbers(value) <= self.numbers_as[kind] | self.bare_numbers
        return _numbers(value) <= self.numbers


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with each span blanked out, every other character where it was."""
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def facts(text: str, kinds) -> list[tuple[str, int, int, str, str]]:
    """(kind, start, end, value, reason) for every fact-like span, each character read once."""
    masked, found = text, []
    for kind, pattern, reason in PATTERNS:
        for match in pattern.finditer(masked):
            value = match.group().rstrip(".,;:!?")
            if kind == "phone" and len(re.sub(r"\D", "", value)) < 7:
                continue  # "2 for 1", "24 7": not a phone number
            if kind in kinds:
                found.append((kind, match.start(), match.start() + len(value), value, reason))
            masked = _masked(masked, [match.span()])
    return sorted(found, key=lambda item: item[1])


class UnsupportedFactCheck(QualityCheck):
    """Only where the subject has a brief: a URL, e-mail, price, percentage, date, measurement
    or phone number that the brief does not contain was made up by the model."""

    name = "quality_unsupported_fact"

    def thresholds(self, policy) -> dict:
        return {"fact_types": list(setting(policy, "quality_fact_types", FACT_TYPES))}

    def find(self, subject: Subject, policy) -> list[Evidence]:
        if subject.brief in (None, "", {}):
            return []
        # The workspace's required disclaimers are written in by the use case: their dates or
        # prices come from the policy, which is part of the brief.
        from pressroom.safety.checks.quality.form import required_disclaimers

        brief = _Brief({"brief": subject.brief, "required_disclaimers": list(required_disclaimers(policy, subject.use_case))})
        kinds = set(setting(policy, "quality_fact_types", FACT_TYPES))
        return [Evidence(start, end, value, reason, category=kind)
                for kind, start, end, value, reason in facts(subject.text, kinds) if not brief.grounds(kind, value)]
