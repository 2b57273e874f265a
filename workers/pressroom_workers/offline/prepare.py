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


def prepare_model(root: Path, name: str, *, force: bool = False) -> tuple[Path, bool]:
    """Build one default model folder; returns (folder, built). A folder is complete
    only once its marker file exists, so an interrupted build is redone."""
    target = root / name
    if (target / MARKER_FILE).exists() and not force:
        return target, False
    scratch = root / f".{name}.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    marker = BUILDERS[name](scratch)
    (scratch / MARKER_FILE).write_text(json.dumps({"name": name, **marker}, indent=2))
    shutil.rmtree(target, ignore_errors=True)
    scratch.rename(target)
    return target, True
