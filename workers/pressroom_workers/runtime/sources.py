"""Where a model alias points: a local folder or a hub id, and what identifies its weights."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pressroom.conf import pressroom_settings

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".onnx", ".gguf")
MARKER_FILE = "pressroom_model.json"


class ModelNotAvailable(RuntimeError):
    """The configured model cannot be loaded (missing folder, no network for a hub id)."""


@dataclass(frozen=True)
class ModelSpec:
    alias: str
    task: str
    source: str
    revision: str | None = None
    dtype: str = "auto"
    device: str = "auto"
    # Which engine serves a text model: "auto", "transformers", "llama.cpp" or "openai".
    engine: str = "auto"
    # The rest of the alias's settings (an engine's own: base_url, api_key, n_ctx, ...).
    options: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def from_settings(cls, alias: str) -> ModelSpec:
        models = pressroom_settings.MODELS
        if alias not in models:
            raise ModelNotAvailable(f"Model alias {alias!r} is not configured (known: {', '.join(sorted(models))})")
        config: dict[str, Any] = models[alias]
        return cls(
            alias=alias,
            task=config["task"],
            source=str(config.get("source") or config.get("base_url") or ""),
            revision=config.get("revision"),
            dtype=config.get("dtype", "auto"),
            device=config.get("device", pressroom_settings.DEVICE),
            engine=config.get("engine", "auto"),
            options=dict(config),
        )


@dataclass(frozen=True)
class ResolvedSource:
    path: Path
    source: str  # what provenance records: the local path or the hub id
    revision: str
    placeholder: bool


def _local_candidates(source: str) -> list[Path]:
    path = Path(source).expanduser()
    return [path] if path.is_absolute() else [pressroom_settings.model_root / path, Path.cwd() / path]


def weights_sha256(folder: Path) -> str:
    """One hash over every weight file under the folder, in a stable order."""
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.suffix in WEIGHT_SUFFIXES and p.is_file()):
        digest.update(str(file.relative_to(folder)).encode())
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def _read_marker(folder: Path) -> dict[str, Any]:
    marker = folder / MARKER_FILE
    return json.loads(marker.read_text()) if marker.exists() else {}


def _resolve_hub(spec: ModelSpec) -> ResolvedSource:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        folder = Path(snapshot_download(repo_id=spec.source, revision=spec.revision))
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError, ValueError) as error:
        raise ModelNotAvailable(
            f"Model {spec.alias!r}: {spec.source!r} is neither a local folder nor a reachable hub id "
            f"({error.__class__.__name__}). Run `python manage.py prepare_models` for the offline defaults."
        ) from error
    # Hub snapshots live under .../snapshots/<commit>/: the commit pins the weights.
    return ResolvedSource(path=folder, source=spec.source, revision=folder.name, placeholder=False)


def local_folder(spec: ModelSpec) -> Path | None:
    """The alias's local model folder, if its source names one that exists."""
    return next((candidate for candidate in _local_candidates(spec.source) if candidate.is_dir()), None)


def gguf_file(folder: Path) -> Path | None:
    """The GGUF weights in a model folder (llama.cpp's format), if there is exactly one."""
    found = sorted(folder.glob("*.gguf"))
    return found[0] if len(found) == 1 else None


def resolve_source(spec: ModelSpec) -> ResolvedSource:
    candidate = local_folder(spec)
    if candidate is not None:
        marker = _read_marker(candidate)
        return ResolvedSource(
            path=candidate.resolve(),
            source=str(candidate.resolve()),
            revision=spec.revision or weights_sha256(candidate),
            placeholder=bool(marker.get("placeholder", False)),
        )
    return _resolve_hub(spec)
