"""Worker-side safety models: detoxify for toxicity (torch lives here, not in platform/)."""
from __future__ import annotations

import logging
from typing import Any

from pressroom.conf import pressroom_settings
from pressroom.safety.checks.toxicity import install_toxicity_scorer

logger = logging.getLogger(__name__)


class DetoxifyScorer:
    """Scores texts in batches with the real `detoxify` package."""

    def __init__(self, *, variant: str = "original", checkpoint: str | None = None,
                 huggingface_config_path: str | None = None, device: str = "cpu", batch_size: int = 64) -> None:
        from detoxify import Detoxify

        self.model = Detoxify(model_type=variant, checkpoint=checkpoint, device=device,
                              huggingface_config_path=huggingface_config_path)
        self.batch_size = batch_size
        self.name = f"detoxify:{checkpoint or variant}"

    def score(self, texts: list[str]) -> list[dict[str, float]]:
        scores: list[dict[str, float]] = []
        for start in range(0, len(texts), self.batch_size):
            chunk = texts[start : start + self.batch_size]
            predicted: dict[str, Any] = self.model.predict(chunk)
            columns = {name: values if isinstance(values, list) else [values] for name, values in predicted.items()}
            scores.extend({name: float(values[i]) for name, values in columns.items()} for i in range(len(chunk)))
        return scores


_installed_note: str | None = None


def ensure_configured_toxicity_scorer() -> str:
    """Install the configured scorer once per process, on first use. (Not at process
    start: Celery gives a pool process a few seconds to come up, and loading detoxify can
    take longer.)"""
    global _installed_note
    if _installed_note is None:
        _installed_note = install_configured_toxicity_scorer()
    return _installed_note


def install_configured_toxicity_scorer() -> str:
    """Load the configured detoxify model; without its weights keep the offline baseline
    and say so in every verdict it scores."""
    config = pressroom_settings.TOXICITY
    try:
        from pressroom_workers.runtime.device import pick_device

        scorer = DetoxifyScorer(
            variant=config.get("variant") or "original",
            checkpoint=config.get("checkpoint"),
            huggingface_config_path=config.get("huggingface_config_path"),
            device=str(pick_device(pressroom_settings.DEVICE)),
        )
    except Exception as error:  # noqa: BLE001 - no network, no file: fall back, on record
        from pressroom.safety.checks.toxicity import ProfanityBaselineScorer

        note = f"detoxify unavailable ({type(error).__name__}); baseline used"
        logger.warning("Toxicity: %s: %s", note, error)
        install_toxicity_scorer(ProfanityBaselineScorer(), note)
        return note
    install_toxicity_scorer(scorer)
    return scorer.name
