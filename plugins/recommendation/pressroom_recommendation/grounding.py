"""Every product a message names must exist in the catalog."""
from __future__ import annotations

import re

from pressroom.plugins import CheckResult, Evidence, SafetyCheck

QUOTED = re.compile(r"[\"“”]([^\"“”\n]{2,120})[\"“”]")


def named_items(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(1), m.end(1), m.group(1).strip()) for m in QUOTED.finditer(text)]


def unknown_names(text: str, catalog_names: set[str]) -> list[str]:
    known = {name.casefold() for name in catalog_names}
    return [name for _, _, name in named_items(text) if name.casefold() not in known]


class CatalogGroundingCheck(SafetyCheck):
    """Flags a recommendation message that names a product missing from the catalog."""

    name = "catalog_grounding"
    rules_only = True

    def run(self, subjects, policy) -> list[CheckResult]:
        return [self._check(subject) for subject in subjects]

    def _check(self, subject) -> CheckResult:
        unknown = subject.data.get("unknown_items") if isinstance(subject.data, dict) else None
        if not unknown:
            return CheckResult(self.name, "pass", scored_by="recommendation catalog")
        evidence = [Evidence(start, end, name, "not in the catalog", category="unknown_product")
                    for start, end, name in named_items(subject.text) if name in unknown]
        return CheckResult(self.name, "flag", scores={"unknown_items": len(unknown)}, evidence=evidence,
                           scored_by="recommendation catalog", reason=f"names products not in the catalog: {', '.join(unknown)}")
