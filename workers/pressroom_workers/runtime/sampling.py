"""Per-row sampling: each sequence draws from its own random generator, seeded by its
item, so its output depends on its prompt and seed only, never on what else shares the
model call. Every in-process text engine samples through this one rule."""
from __future__ import annotations

import numpy as np

# The nucleus is looked for among the most likely tokens first, then among more of them,
# and in the whole sorted vocabulary only when these do not hold `top_p` of the mass
# (rare: small models are peaked).
NUCLEUS_CANDIDATES = 256
CANDIDATE_TIERS = (NUCLEUS_CANDIDATES, 16 * NUCLEUS_CANDIDATES)
# Tokens this far below the best (in tempered logits: e^-20 of its probability) are never
# among the candidates: one comparison finds the rest, where a partition of the whole
# vocabulary took four fifths of the sampling time. If the rest do not hold `top_p`, the
# full sort still decides, so the pick is the same.
CANDIDATE_MARGIN = 20.0


class RowSampler:
    """Picks the next token of one sequence from its logits: argmax when temperature is 0,
    otherwise temperature, then top-p (nucleus), then one uniform draw from the row's own
    generator (inverse CDF, so one draw per token whatever the vocabulary)."""

    def __init__(self, seed: int | None, temperature: float, top_p: float) -> None:
        self.temperature = float(temperature)
        self.top_p = float(top_p)
        self.rng = np.random.default_rng(0 if seed is None else seed)

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0

    def pick(self, logits: np.ndarray) -> int:
        if self.greedy:
            return int(np.argmax(logits))
        scaled = np.asarray(logits, dtype=np.float64) / self.temperature
        if self.top_p >= 1:
            return self._whole_distribution(scaled)
        candidates, probs = _nucleus(scaled, self.top_p)
        draw = self.rng.random() * probs[-1]
        return int(candidates[min(int(np.searchsorted(probs, draw, side="right")), len(candidates) - 1)])

    def _whole_distribution(self, scaled: np.ndarray) -> int:
        """top_p 1: the draw is made first; it almost always lands among the most likely
        tokens, so the whole vocabulary is sorted only when it does not (same answer)."""
        draw = self.rng.random()
        candidates, probs = _nucleus(scaled, 0.0, whole=True)
        if draw >= probs[-1]:
            candidates, probs = _full_order(scaled)
        return int(candidates[min(int(np.searchsorted(probs, draw, side="right")), len(candidates) - 1)])


def _nucleus(scaled: np.ndarray, top_p: float, *, whole: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(token ids by falling probability, their cumulative probabilities) of the smallest
    set whose mass reaches top_p (`whole`: the most likely few hundred, uncut).
    Ties are broken by token id, so the order is stable."""
    best = scaled.max()
    shifted = np.exp(scaled - best)
    total = shifted.sum()
    near = np.flatnonzero(scaled >= best - CANDIDATE_MARGIN)
    order, cumulative = _most_likely(near, shifted, CANDIDATE_TIERS[0], total)
    if whole:
        return order, cumulative
    for size in CANDIDATE_TIERS[1:]:
        if cumulative[-1] >= top_p or len(near) <= len(order):
            break
        order, cumulative = _most_likely(near, shifted, size, total)
    if cumulative[-1] < top_p and len(order) < len(scaled):
        order, cumulative = _full_order(scaled)
    keep = int(np.searchsorted(cumulative, min(top_p, cumulative[-1]) - 1e-12)) + 1
    return order[:keep], cumulative[:keep]


def _most_likely(near: np.ndarray, shifted: np.ndarray, size: int, total: float) -> tuple[np.ndarray, np.ndarray]:
    """The `size` most likely of the `near` tokens, sorted, with their cumulative probabilities."""
    top = near[np.argpartition(-shifted[near], size - 1)[:size]] if len(near) > size else near
    order = top[np.lexsort((top, -shifted[top]))]
    return order, np.cumsum(shifted[order]) / total


def _full_order(scaled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    shifted = np.exp(scaled - scaled.max())
    order = np.lexsort((np.arange(len(scaled)), -shifted))
    return order, np.cumsum(shifted[order]) / shifted.sum()
