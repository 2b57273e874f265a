"""Built-in use cases that drive the pipeline before any plugin is installed.

They are written against the same contract as third-party plugins.
"""
from __future__ import annotations

import math

from pydantic import Field, field_validator, model_validator

from pressroom.conf import pressroom_settings
from pressroom.plugins.runtime_requests import EmbeddingOutput, EmbedTexts, GenerateImages, GenerateText
from pressroom.plugins.usecases import ArtifactDraft, RunContext, UseCase, UseCaseInput, UseCaseRun, register_use_case


def _limit(name: str) -> int:
    return pressroom_settings.LIMITS[name]


def _check_at_most(value: int, limit_name: str, what: str) -> int:
    if value > _limit(limit_name):
        raise ValueError(f"{what} must be at most {_limit(limit_name)}")
    return value


def _variant_seeds(seed: int | None, ctx: RunContext, variants: int) -> tuple[int, ...]:
    base = ctx.base_seed if seed is None else seed
    return tuple(base + index for index in range(variants))


class FreeformTextInput(UseCaseInput):
    prompt: str = Field(min_length=1, description="What to write.",
                        examples=["A two-line tagline for a reusable water bottle"])
    system_prompt: str | None = Field(default=None, description="Instructions that frame the answer.")
    variants: int = Field(default=1, ge=1, description="How many alternatives to write.")
    max_new_tokens: int = Field(default=128, ge=1)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0, description="0 is deterministic (greedy).")
    seed: int | None = Field(default=None, ge=0, lt=2**31)

    @field_validator("variants")
    @classmethod
    def _variants_limit(cls, value: int) -> int:
        return _check_at_most(value, "MAX_VARIANTS", "variants")

    @field_validator("max_new_tokens")
    @classmethod
    def _tokens_limit(cls, value: int) -> int:
        return _check_at_most(value, "MAX_NEW_TOKENS", "max_new_tokens")

    @model_validator(mode="after")
    def _variants_need_sampling(self) -> FreeformTextInput:
        if self.variants > 1 and self.temperature == 0:
            raise ValueError("several variants need a temperature above 0 (greedy decoding gives one answer)")
        return self


@register_use_case
class FreeformText(UseCase):
    key = "core.text"
    title = "Free-form text"
    description = "Writes text from a prompt with the workspace's text model."
    modality = "text"
    Input = FreeformTextInput

    def run(self, data: FreeformTextInput, ctx: RunContext) -> UseCaseRun:
        seeds = _variant_seeds(data.seed, ctx, data.variants)
        outputs = yield GenerateText(
            prompts=(data.prompt,) * data.variants,
            system_prompt=data.system_prompt,
            max_new_tokens=data.max_new_tokens,
            temperature=data.temperature,
            seeds=seeds,
        )
        return [
            ArtifactDraft(
                kind="text",
                variant_index=index,
                text=output.text,
                seed=output.seed,
                params=output.params,
                provenance=output.provenance,
            )
            for index, output in enumerate(outputs)
        ]


class FreeformImageInput(UseCaseInput):
    prompt: str = Field(min_length=1)
    negative_prompt: str | None = None
    variants: int = Field(default=1, ge=1)
    width: int = Field(default=256, ge=64, multiple_of=8)
    height: int = Field(default=256, ge=64, multiple_of=8)
    steps: int = Field(default=20, ge=1)
    guidance_scale: float = Field(default=7.5, ge=0.0, le=30.0)
    seed: int | None = Field(default=None, ge=0, lt=2**31)

    @field_validator("variants")
    @classmethod
    def _variants_limit(cls, value: int) -> int:
        return _check_at_most(value, "MAX_VARIANTS", "variants")

    @field_validator("width", "height")
    @classmethod
    def _side_limit(cls, value: int) -> int:
        return _check_at_most(value, "MAX_IMAGE_SIDE", "image side")

    @field_validator("steps")
    @classmethod
    def _steps_limit(cls, value: int) -> int:
        return _check_at_most(value, "MAX_IMAGE_STEPS", "steps")


@register_use_case
class FreeformImage(UseCase):
    key = "core.image"
    title = "Free-form image"
    description = "Draws images from a prompt with the workspace's image model."
    modality = "image"
    Input = FreeformImageInput

    def run(self, data: FreeformImageInput, ctx: RunContext) -> UseCaseRun:
        outputs = yield GenerateImages(
            prompts=(data.prompt,) * data.variants,
            seeds=_variant_seeds(data.seed, ctx, data.variants),
            negative_prompt=data.negative_prompt,
            width=data.width,
            height=data.height,
            steps=data.steps,
            guidance_scale=data.guidance_scale,
        )
        return [
            ArtifactDraft(
                kind="image",
                variant_index=index,
                png=output.png,
                seed=output.seed,
                params=output.params,
                provenance=output.provenance,
            )
            for index, output in enumerate(outputs)
        ]


class SemanticRankInput(UseCaseInput):
    query: str = Field(min_length=1, examples=["waterproof trail shoes"])
    candidates: list[str] = Field(min_length=1, max_length=200,
                                  examples=[["Gore-Tex trail runner", "Canvas city sneaker", "Waterproof hiking boot"]])
    top_k: int = Field(default=5, ge=1, le=200)

    @field_validator("candidates")
    @classmethod
    def _no_blank_candidates(cls, values: list[str]) -> list[str]:
        if any(not value.strip() for value in values):
            raise ValueError("candidates may not be blank")
        return values


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


@register_use_case
class SemanticRank(UseCase):
    key = "core.semantic-rank"
    title = "Semantic ranking"
    description = "Orders candidate texts by meaning-similarity to a query (sentence embeddings)."
    modality = "embedding"
    Input = SemanticRankInput

    def run(self, data: SemanticRankInput, ctx: RunContext) -> UseCaseRun:
        embedded: EmbeddingOutput = yield EmbedTexts(texts=(data.query, *data.candidates))
        query_vector, *candidate_vectors = embedded.vectors
        scored = sorted(
            ((_cosine(query_vector, vector), text) for vector, text in zip(candidate_vectors, data.candidates)),
            key=lambda pair: -pair[0],
        )[: data.top_k]
        lines = [f"{rank}. {text} ({score:.3f})" for rank, (score, text) in enumerate(scored, start=1)]
        return [
            ArtifactDraft(
                kind="text",
                variant_index=0,
                text="\n".join(lines),
                params={"top_k": data.top_k, "scores": [round(score, 6) for score, _ in scored]},
                provenance=embedded.provenance,
            )
        ]
