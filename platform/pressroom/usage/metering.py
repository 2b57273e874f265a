"""What a job spent, measured from the runtime's outputs (no database, no torch), so the
worker can add it up step by step and hand it to the service that records the result."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from pressroom.plugins.runtime_requests import EmbeddingOutput, ImageOutput, ModelProvenance, TextOutput


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    images: int = 0
    steps: int = 0  # denoising steps, summed over images
    model_seconds: float = 0.0  # this job's share of each batched model call's wall time

    def add(self, other: Usage) -> Usage:
        for name in self.metric_names():
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in self.metric_names())

    @classmethod
    def metric_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def call_share(provenance: ModelProvenance | None) -> float:
    """One item's share of its model call: the call's measured wall time split evenly over
    the items it served (items of one call are padded to the same length or step count)."""
    if provenance is not None and provenance.model_seconds is not None:
        return provenance.model_seconds
    if provenance is None or provenance.batch_size <= 0:
        return 0.0
    return provenance.call_seconds / provenance.batch_size


def usage_of_result(result: Any) -> Usage:
    """The usage of one runtime result: a list of text or image outputs, or embeddings.
    A failed request (anything else) measured nothing."""
    usage = Usage()
    if isinstance(result, EmbeddingOutput):
        usage.model_seconds = result.model_seconds
        return usage
    for output in result if isinstance(result, list) else ():
        if isinstance(output, TextOutput):
            usage.input_tokens += output.prompt_tokens
            usage.output_tokens += output.new_tokens
        elif isinstance(output, ImageOutput):
            usage.images += 1
            usage.steps += int(output.params.get("steps") or 0)
        else:
            continue
        usage.model_seconds += call_share(output.provenance)
    return usage
