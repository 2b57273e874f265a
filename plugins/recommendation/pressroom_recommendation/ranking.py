"""Rank catalog items per customer: similarity to the recency-weighted history, blended
with popularity, excluding what the customer already bought."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from pressroom_recommendation.schema import Customer, Product

EVENT_WEIGHT = {"purchase": 1.0, "view": 0.5}


@dataclass(frozen=True)
class Recommendation:
    product_id: str
    name: str
    score: float
    similarity: float
    popularity: float

    def as_dict(self) -> dict:
        return {"product_id": self.product_id, "name": self.name, "score": round(self.score, 6),
                "similarity": round(self.similarity, 6), "popularity": round(self.popularity, 6)}


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def popularity_scores(catalog: list[Product], customers: list[Customer]) -> dict[str, float]:
    """Declared popularity where the catalog gives it, else event counts; scaled to 0..1."""
    counts = Counter(e.product_id for c in customers for e in c.events)
    raw = {p.id: p.popularity if p.popularity is not None else float(counts[p.id]) for p in catalog}
    top = max(raw.values()) or 1.0
    return {pid: value / top for pid, value in raw.items()}


def profile_vector(customer: Customer, vectors: dict[str, list[float]], half_life_days: float, now) -> list[float]:
    dims = len(next(iter(vectors.values())))
    profile = [0.0] * dims
    for event in customer.events:
        age_days = max((now - event.at).total_seconds() / 86400, 0.0)
        weight = EVENT_WEIGHT[event.type] * 0.5 ** (age_days / half_life_days)
        profile = [p + weight * v for p, v in zip(profile, vectors[event.product_id])]
    return profile


def rank(catalog: list[Product], customers: list[Customer], vectors: dict[str, list[float]], *, top_k: int,
         similarity_weight: float, popularity_weight: float, half_life_days: float) -> dict[str, list[Recommendation]]:
    # Recency is measured from the newest event in the data, so results do not drift with the clock.
    now = max(e.at for c in customers for e in c.events)
    popularity = popularity_scores(catalog, customers)
    rankings = {}
    for customer in customers:
        bought = {e.product_id for e in customer.events if e.type == "purchase"}
        profile = profile_vector(customer, vectors, half_life_days, now)
        scored = []
        for product in catalog:
            if product.id in bought:
                continue
            similarity = _cosine(profile, vectors[product.id])
            score = similarity_weight * similarity + popularity_weight * popularity[product.id]
            scored.append(Recommendation(product.id, product.name, score, similarity, popularity[product.id]))
        scored.sort(key=lambda r: (-r.score, r.product_id))
        rankings[customer.id] = scored[:top_k]
    return rankings
