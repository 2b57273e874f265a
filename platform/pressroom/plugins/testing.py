"""Helpers for plugin tests: a fake runtime, a driver for use cases, and a conformance
suite any plugin's tests can run.

    from pressroom.plugins.testing import UseCaseConformance

    class TestAdCopy(UseCaseConformance):
        use_case = AdCopy
        valid_inputs = [{"product": "Trail shoes", "channels": ["search"]}]
        invalid_inputs = [({"product": ""}, "product")]

The fake runtime never loads a model: it answers each request deterministically, so a
plugin's own logic (prompts, parsing, limits, assembling artifacts) is what is tested.
End-to-end runs with real models go through the worker (see Pressroom's tests).
"""
from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Callable
from typing import Any

from pressroom.plugins.runtime_requests import (
    EmbeddingOutput,
    EmbedTexts,
    GenerateImages,
    GenerateText,
    ImageOutput,
    ModelProvenance,
    RuntimeRequest,
    TextOutput,
)
from pressroom.plugins.usecases import ArtifactDraft, PromptTemplate, RunContext, UseCase

FAKE_PROVENANCE = ModelProvenance(alias="fake", source="pressroom.plugins.testing", revision="fake")


def _default_text(prompt: str, index: int) -> str:
    return f"Fake text {index} for: {prompt[:60]}"


def _bag_of_words_vector(text: str, dims: int = 64) -> list[float]:
    vector = [0.0] * dims
    for word in text.lower().split():
        bucket = int(hashlib.md5(word.strip(".,!?").encode()).hexdigest(), 16) % dims
        vector[bucket] += 1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _png(width: int, height: int, seed: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (seed * 37 % 256, seed * 91 % 256, seed * 53 % 256)).save(buffer, format="PNG")
    return buffer.getvalue()


class FakeRuntime:
    """Answers runtime requests without models. `text` maps (prompt, index) to a reply, or
    to (reply, finish_reason) to play an answer that ran out of budget ("length")."""

    def __init__(self, text: Callable[[str, int], str] = _default_text) -> None:
        self.text = text
        self.requests: list[RuntimeRequest] = []

    def _text_output(self, request: GenerateText, index: int, prompt: str) -> TextOutput:
        text, finish_reason = _finish(self.text(prompt, index))
        return TextOutput(text=text, seed=(request.seeds[index] if request.seeds else None), new_tokens=1,
                          params={"prompt": prompt, "max_new_tokens": request.max_new_tokens,
                                  "finish_reason": finish_reason}, provenance=FAKE_PROVENANCE)

    def execute(self, request: RuntimeRequest) -> Any:
        self.requests.append(request)
        if isinstance(request, GenerateText):
            return [self._text_output(request, i, p) for i, p in enumerate(request.prompts)]
        if isinstance(request, GenerateImages):
            return [
                ImageOutput(png=_png(request.width, request.height, seed), seed=seed,
                            params={"prompt": p, "width": request.width, "height": request.height}, provenance=FAKE_PROVENANCE)
                for p, seed in zip(request.prompts, request.seeds)
            ]
        if isinstance(request, EmbedTexts):
            return EmbeddingOutput(vectors=[_bag_of_words_vector(t) for t in request.texts], provenance=FAKE_PROVENANCE)
        raise TypeError(f"A use case yielded {request!r}, which is not a runtime request")


def _finish(reply: str | tuple[str, str]) -> tuple[str, str]:
    return reply if isinstance(reply, tuple) else (reply, "stop")


def make_context(**overrides: Any) -> RunContext:
    values: dict[str, Any] = {"job_id": "test-job", "workspace_slug": "test", "workspace_id": None, "base_seed": 1234}
    return RunContext(**{**values, **overrides})


def templates_from(mapping: dict[str, PromptTemplate]) -> Callable[[str, str], PromptTemplate]:
    """A template resolver for tests: stored templates by key, else the plugin default."""
    return lambda key, default: mapping.get(key) or PromptTemplate(key=key, body=default)


def run_use_case(use_case: UseCase | type[UseCase], data: dict[str, Any], *, runtime: FakeRuntime | None = None,
                 ctx: RunContext | None = None) -> list[ArtifactDraft]:
    """Validate the input like the platform does, then drive `run` to completion."""
    instance = use_case() if isinstance(use_case, type) else use_case
    runtime = runtime or FakeRuntime()
    generator = instance.run(instance.Input.model_validate(data), ctx or make_context())
    try:
        request = next(generator)
        while True:
            request = generator.send(runtime.execute(request))
    except StopIteration as finished:
        return list(finished.value or [])


class UseCaseConformance:
    """Mix into a pytest test class; set `use_case`, `valid_inputs` and `invalid_inputs`
    (pairs of input and the field that must carry an error)."""

    use_case: type[UseCase]
    valid_inputs: list[dict[str, Any]] = []
    invalid_inputs: list[tuple[dict[str, Any], str]] = []

    def runtime(self) -> FakeRuntime:
        return FakeRuntime()

    def context(self) -> RunContext:
        """Override to give the run the plugin's settings or workspace templates."""
        return make_context()

    def test_declares_the_contract(self):
        cls = self.use_case
        assert isinstance(cls.key, str) and "." in cls.key, "keys are namespaced: '<plugin>.<use case>'"
        assert cls.title and cls.description
        assert cls.modality in ("text", "image", "embedding")
        assert set(cls.output_kinds) <= {"text", "image"} and cls.output_kinds
        schema = cls.input_json_schema()
        assert schema["type"] == "object" and schema.get("properties")

    def test_valid_inputs_produce_artifacts_with_provenance(self):
        assert self.valid_inputs, "give at least one valid input"
        for data in self.valid_inputs:
            drafts = run_use_case(self.use_case, data, runtime=self.runtime(), ctx=self.context())
            assert drafts, f"no artifacts for {data}"
            assert len({d.variant_index for d in drafts}) == len(drafts), "variant indexes must be unique"
            for draft in drafts:
                assert draft.kind in self.use_case.output_kinds
                assert isinstance(draft.provenance, ModelProvenance)
                assert (draft.text if draft.kind == "text" else draft.png), "empty artifact"

    def test_invalid_inputs_are_refused_with_field_errors(self):
        from pydantic import ValidationError

        for data, field_name in self.invalid_inputs:
            try:
                self.use_case.Input.model_validate(data)
            except ValidationError as error:
                fields = {".".join(str(p) for p in e["loc"]) for e in error.errors()}
                assert any(f == field_name or f.startswith(field_name + ".") for f in fields), (field_name, fields)
            else:
                raise AssertionError(f"{data} was accepted; expected an error on {field_name!r}")

    def test_runs_are_reproducible(self):
        for data in self.valid_inputs:
            first = run_use_case(self.use_case, data, runtime=self.runtime(), ctx=self.context())
            again = run_use_case(self.use_case, data, runtime=self.runtime(), ctx=self.context())
            assert [(d.text, d.seed, d.data) for d in first] == [(d.text, d.seed, d.data) for d in again]
