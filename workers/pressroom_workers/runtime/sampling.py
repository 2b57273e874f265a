"""Per-row sampling: each sequence draws from its own random generator, seeded by its
item, so its output depends on its prompt and seed only, never on what else shares the
model call. Every in-process text engine samples through this one rule."""
from __future__ import annotations

import numpy as np

# The nucleus is looked for among the most likely tokens first; a full sort only when
# these do not hold `top_p` of the mass (rare: small models are peaked).
NUCLEUS_CANDIDATES = 256


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
    set whose mass reaches top_p (`whole`: the NUCLEUS_CANDIDATES most likely, uncut).
    Ties are broken by token id, so the order is stable."""
    shifted = np.exp(scaled - scaled.max())
    total = shifted.sum()
    size = min(NUCLEUS_CANDIDATES, len(scaled))
    top = np.argpartition(-shifted, size - 1)[:size] if size < len(scaled) else np.arange(len(scaled))
    order = top[np.lexsort((top, -shifted[top]))]
    cumulative = np.cumsum(shifted[order]) / total
    if whole:
        return order, cumulative
    if cumulative[-1] < top_p and size < len(scaled):
        order, cumulative = _full_order(scaled)
    keep = int(np.searchsorted(cumulative, min(top_p, cumulative[-1]) - 1e-12)) + 1
    return order[:keep], cumulative[:keep]


def _full_order(scaled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    shifted = np.exp(scaled - scaled.max())
    order = np.lexsort((np.arange(len(scaled)), -shifted))
    return order, np.cumsum(shifted[order]) / shifted.sum()
