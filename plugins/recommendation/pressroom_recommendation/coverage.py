"""A recommendation message must name at least one of the products ranked for that customer
(the ranking is in the artifact's data); naming none is a message the customer cannot act on."""
from __future__ import annotations

import re

from pressroom.plugins import Evidence, QualityCheck


def recommended_names(data) -> list[str]:
    ranking = data.get("recommendations") if isinstance(data, dict) else None
    if not isinstance(ranking, list):
        return []
    return [str(item["name"]) for item in ranking if isinstance(item, dict) and str(item.get("name", "")).strip()]


def mentions(text: str, name: str) -> bool:
    """The name as words (any case), so "Trail Mug" is not found inside "Trail Mugs2"."""
    return re.search(rf"(?<!\w){re.escape(name.strip())}(?!\w)", text, re.IGNORECASE) is not None


class RecommendationCoverageCheck(QualityCheck):
    """Flags a message that names none of its customer's recommended items. (Products outside
    the catalog are the catalog_grounding check's.)"""

    name = "recommendation_coverage"
    scored_by = "recommendation ranking"

    def find(self, subject, policy) -> list[Evidence]:
        names = recommended_names(subject.data)
        if not names or any(mentions(subject.text, name) for name in names):
            return []
        excerpt = subject.text.strip()[:60]
        start = max(subject.text.find(excerpt), 0)
        listed = ", ".join(names[:5])
        return [Evidence(start, start + len(excerpt), excerpt, f"names none of the recommended items ({listed})",
                         category="missing_recommendation")]
