"""Prepare the default offline models under MODEL_ROOT, each once."""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from pressroom_workers.offline.minilm import build_minilm
from pressroom_workers.offline.smollm2 import build_smollm2
from pressroom_workers.offline.tiny_sd import build_tiny_sd
from pressroom_workers.runtime.sources import MARKER_FILE

BUILDERS: dict[str, Callable[[Path], dict]] = {
    "smollm2-135m-instruct": build_smollm2,
    "all-minilm-l6-v2": build_minilm,
    "tiny-sd-placeholder": build_tiny_sd,
}
# Raised when a builder starts producing more (MiniLM gained its ONNX encoder in 2,
# SmolLM2 its GGUF for llama.cpp in 2), so a folder built by an older Pressroom is
# rebuilt instead of being taken as complete.
BUILD_REVISIONS: dict[str, int] = {"all-minilm-l6-v2": 2, "smollm2-135m-instruct": 2}


def _is_complete(target: Path, name: str) -> bool:
    marker = target / MARKER_FILE
    if not marker.exists():
        return False
    return json.loads(marker.read_text()).get("build", 1) >= BUILD_REVISIONS.get(name, 1)


def prepare_model(root: Path, name: str, *, force: bool = False) -> tuple[Path, bool]:
    """Build one default model folder; returns (folder, built). A folder is complete
    only once its marker file exists, so an interrupted build is redone."""
    target = root / name
    if _is_complete(target, name) and not force:
        return target, False
    scratch = root / f".{name}.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    marker = BUILDERS[name](scratch)
    (scratch / MARKER_FILE).write_text(json.dumps({"name": name, "build": BUILD_REVISIONS.get(name, 1), **marker}, indent=2))
    shutil.rmtree(target, ignore_errors=True)
    scratch.rename(target)
    return target, True
