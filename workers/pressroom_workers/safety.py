"""Worker-side safety models: detoxify for toxicity (torch lives here, not in platform/)."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
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


@dataclass(frozen=True)
class ToxicityChoice:
    use_detoxify: bool
    why: str


def _offline() -> bool:
    return any(os.environ.get(name, "").lower() in ("1", "true", "yes") for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _cached_variant(variant: str) -> Path | None:
    """detoxify's released checkpoint for `variant`, if torch hub already has it on disk."""
    try:
        import torch
        from detoxify.detoxify import MODEL_URLS
    except ImportError:
        return None
    url = MODEL_URLS.get(variant)
    cached = Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1] if url else None
    return cached if cached and cached.exists() else None


def toxicity_choice() -> ToxicityChoice:
    """Which scorer this worker uses, decided from what is on disk and whether the install
    is offline -- never by trying a download that cannot succeed."""
    config = pressroom_settings.TOXICITY
    checkpoint, variant = config.get("checkpoint"), config.get("variant") or "original"
    if checkpoint:
        if Path(checkpoint).exists():
            return ToxicityChoice(True, f"detoxify with the local checkpoint {checkpoint}")
        return ToxicityChoice(False, f"PRESSROOM_TOXICITY_CHECKPOINT {checkpoint} does not exist")
    if _cached_variant(variant):
        return ToxicityChoice(True, f"detoxify {variant} from the torch hub cache")
    if _offline():
        return ToxicityChoice(False, f"detoxify's {variant} weights are not on this machine and the install is offline")
    return ToxicityChoice(True, f"detoxify {variant}, downloaded once (an online install)")


def log_toxicity_choice() -> ToxicityChoice:
    """At worker start: one line that says which scorer the screening will use, and why."""
    choice = toxicity_choice()
    scorer = "detoxify" if choice.use_detoxify else "the offline baseline (alt-profanity-check)"
    logger.info("Toxicity scorer: %s -- %s", scorer, choice.why)
    return choice


def install_configured_toxicity_scorer() -> str:
    """Load the configured detoxify model when it can be had; else keep the offline baseline
    and say so in every verdict it scores."""
    from pressroom.safety.checks.toxicity import ProfanityBaselineScorer

    config = pressroom_settings.TOXICITY
    choice = toxicity_choice()
    if not choice.use_detoxify:
        note = f"baseline: {choice.why}"
        install_toxicity_scorer(ProfanityBaselineScorer(), note)
        return note
    try:
        from pressroom_workers.runtime.device import pick_device

        scorer = DetoxifyScorer(
            variant=config.get("variant") or "original",
            checkpoint=config.get("checkpoint"),
            huggingface_config_path=config.get("huggingface_config_path"),
            device=str(pick_device(pressroom_settings.DEVICE)),
        )
    except Exception as error:  # noqa: BLE001 - a broken file or download: fall back, on record
        note = f"detoxify unavailable ({type(error).__name__}); baseline used"
        logger.warning("Toxicity: %s: %s", note, error)
        install_toxicity_scorer(ProfanityBaselineScorer(), note)
        return note
    install_toxicity_scorer(scorer)
    return scorer.name
