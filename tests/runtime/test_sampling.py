"""RowSampler finds the nucleus among the most likely tokens without sorting the whole
vocabulary; its picks must be exactly those of the plain rule (sort everything)."""
import numpy as np
import pytest

from pressroom_workers.runtime.sampling import RowSampler


def reference_pick(logits: np.ndarray, temperature: float, top_p: float, rng: np.random.Generator) -> int:
    """The rule, written plainly: temperature, every token sorted by falling probability
    (equal ones by id), the smallest prefix holding top_p, one uniform draw."""
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    probs = np.exp(scaled - scaled.max())
    order = np.lexsort((np.arange(len(probs)), -probs))
    cumulative = np.cumsum(probs[order]) / probs.sum()
    if top_p >= 1:
        draw = rng.random()
        return int(order[min(int(np.searchsorted(cumulative, draw, side="right")), len(order) - 1)])
    keep = int(np.searchsorted(cumulative, min(top_p, cumulative[-1]) - 1e-12)) + 1
    draw = rng.random() * cumulative[keep - 1]
    return int(order[min(int(np.searchsorted(cumulative[:keep], draw, side="right")), keep - 1)])


@pytest.mark.parametrize("spread, peak", [(0.3, 0.0), (1.0, 4.0), (3.0, 12.0), (6.0, 15.0)])
@pytest.mark.parametrize("temperature, top_p", [(0.8, 0.95), (0.6, 0.9), (1.0, 1.0), (0.7, 0.999), (1.5, 0.95)])
def test_picks_match_sorting_the_whole_vocabulary(spread, peak, temperature, top_p):
    """Peaked rows (nucleus within a few tokens), flat rows (nucleus of thousands, past
    every candidate tier) and top_p 1 (the draw may land anywhere)."""
    data = np.random.default_rng(int(spread * 10 + peak))
    sampler, reference = RowSampler(11, temperature, top_p), np.random.default_rng(11)
    for _ in range(40):
        logits = (data.standard_normal(49152) * spread).astype(np.float32)
        logits[data.integers(0, 49152, 5)] += peak
        assert sampler.pick(logits) == reference_pick(logits, temperature, top_p, reference)


def test_greedy_takes_the_most_likely_token():
    logits = np.zeros(1000, dtype=np.float32)
    logits[417] = 3.0
    assert RowSampler(None, 0.0, 1.0).pick(logits) == 417
