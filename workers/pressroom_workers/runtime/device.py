"""Device and precision choice: CUDA with half precision when present, else CPU."""
from __future__ import annotations

import torch

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def pick_device(preference: str = "auto") -> torch.device:
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if preference.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"Device {preference!r} configured but CUDA is not available on this worker")
    return torch.device(preference)


def pick_dtype(preference: str, device: torch.device) -> torch.dtype:
    if preference == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    try:
        return _DTYPES[preference]
    except KeyError:
        raise ValueError(f"Unknown dtype {preference!r}; use auto, {', '.join(_DTYPES)}") from None


def is_out_of_memory(error: BaseException) -> bool:
    return isinstance(error, torch.cuda.OutOfMemoryError)


def release_cached_memory() -> None:
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
