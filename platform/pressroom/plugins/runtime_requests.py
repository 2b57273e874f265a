"""Work a use case asks of the model runtime, and what comes back.

Requests are plain data so the worker can batch them across jobs and plugins into
one model call, and plugin tests can answer them with a fake runtime.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union


@dataclass(frozen=True)
class GenerateText:
    """One completion per prompt. temperature 0 means greedy decoding."""

    prompts: tuple[str, ...]
    model: str = "text-default"
    max_new_tokens: int = 128
    temperature: float = 0.0
    top_p: float = 1.0
    seeds: tuple[int, ...] = ()
    system_prompt: str | None = None
    # A token budget per prompt (fields of different lengths in one request); empty:
    # max_new_tokens for every prompt.
    budgets: tuple[int, ...] = ()
    # Generation of a prompt ends at the first of these strings (left out of the text).
    stop: tuple[str, ...] = ()
    # A temperature per prompt (short phrases want less randomness than body copy); empty:
    # `temperature` for every prompt.
    temperatures: tuple[float, ...] = ()
    # Few-shot turns per prompt, shown before it as earlier (request, answer) exchanges;
    # empty: none.
    examples: tuple[tuple[tuple[str, str], ...], ...] = ()

    def __post_init__(self) -> None:
        if self.seeds and len(self.seeds) != len(self.prompts):
            raise ValueError("GenerateText needs one seed per prompt")
        if self.budgets and len(self.budgets) != len(self.prompts):
            raise ValueError("GenerateText needs one budget per prompt")
        if self.temperatures and len(self.temperatures) != len(self.prompts):
            raise ValueError("GenerateText needs one temperature per prompt")
        if self.examples and len(self.examples) != len(self.prompts):
            raise ValueError("GenerateText needs one tuple of examples per prompt")
        if any(not 0.0 <= t <= 2.0 for t in (self.temperature, *self.temperatures)):
            raise ValueError("GenerateText temperatures must be from 0 to 2")


@dataclass(frozen=True)
class GenerateImages:
    """One image per prompt, each from its own seed."""

    prompts: tuple[str, ...]
    seeds: tuple[int, ...]
    model: str = "image-default"
    width: int = 64
    height: int = 64
    steps: int = 4
    guidance_scale: float = 5.0
    negative_prompt: str | None = None

    def __post_init__(self) -> None:
        if len(self.seeds) != len(self.prompts):
            raise ValueError("GenerateImages needs one seed per prompt")


@dataclass(frozen=True)
class EmbedTexts:
    texts: tuple[str, ...]
    model: str = "embed-default"


RuntimeRequest = Union[GenerateText, GenerateImages, EmbedTexts]


@dataclass(frozen=True)
class ModelProvenance:
    """Enough to explain and reproduce an output: which weights, which call."""

    alias: str
    source: str
    revision: str
    placeholder: bool = False
    device: str = "cpu"
    dtype: str = "float32"
    # Every output of one batched model call shares a batch id.
    batch_id: str = ""
    batch_size: int = 1
    # Wall time of that whole call; each of its batch_size items used an equal share.
    call_seconds: float = 0.0
    # What ran it: the engine ("transformers", "llama.cpp", "openai", ...), the server's
    # address for an engine reached over HTTP, and the model id that engine reports.
    engine: str = ""
    endpoint: str = ""
    model_id: str = ""
    # This output's own share of model time, where the engine measures it per item
    # (continuous batching: items join and leave a running call); else call_seconds shared.
    model_seconds: float | None = None


@dataclass(frozen=True)
class TextOutput:
    text: str
    seed: int | None
    new_tokens: int
    params: dict[str, Any]
    provenance: ModelProvenance
    prompt_tokens: int = 0


@dataclass(frozen=True)
class ImageOutput:
    png: bytes
    seed: int
    params: dict[str, Any]
    provenance: ModelProvenance


@dataclass(frozen=True)
class EmbeddingOutput:
    vectors: list[list[float]] = field(repr=False)
    provenance: ModelProvenance | None = None
    # The request's share of the model calls that embedded it (its texts may span calls).
    model_seconds: float = 0.0
