"""Model backends: load a model folder once, then run a list of compatible items as
one batched call under torch.inference_mode."""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import torch

from pressroom_workers.runtime.sources import ModelSpec, ResolvedSource, resolve_source


@dataclass(frozen=True)
class TextItem:
    """One completion to write. It carries its own decoding settings, so items of any
    temperature or budget share a model call; its seed alone decides its draws."""

    prompt: str
    system_prompt: str | None
    seed: int | None
    max_new_tokens: int = 128
    temperature: float = 0.0
    top_p: float = 1.0
    # Generation ends at the first of these (not included in the text).
    stop: tuple[str, ...] = ()


class TextResult(NamedTuple):
    text: str
    new_tokens: int
    prompt_tokens: int
    # "stop": end of text or a stop sequence; "length": the token budget ran out.
    finish_reason: str = "stop"


@dataclass(frozen=True)
class ImageItem:
    prompt: str
    negative_prompt: str | None
    seed: int


StopCheck = Callable[[], bool]


def _never() -> bool:
    return False


class Backend:
    task: ClassVar[str]
    # Provenance: what runs the model; an HTTP engine's address and the model id it reports.
    engine: ClassVar[str] = ""
    endpoint: str = ""
    model_id: str = ""

    def __init__(self, resolved: ResolvedSource, device: torch.device, dtype: torch.dtype) -> None:
        self.resolved = resolved
        self.device = device
        self.dtype = dtype

    @classmethod
    def from_spec(cls, spec: ModelSpec, device: torch.device, dtype: torch.dtype) -> Backend:
        """Load the alias's model; an engine that reaches a server, not files, overrides this."""
        return cls(resolve_source(spec), device, dtype)

    def run(self, items: list[Any], params: dict[str, Any], should_stop: StopCheck = _never) -> list[Any]:
        """`should_stop` is asked between decoding steps (text) or denoising steps (images):
        True abandons the call early (its jobs were cancelled; the partial output is dropped)."""
        raise NotImplementedError


class _StopWhenAsked:
    """A transformers StoppingCriteria: ends every row once `should_stop` says so."""

    def __init__(self, should_stop: StopCheck) -> None:
        self.should_stop = should_stop

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        return torch.full((input_ids.shape[0],), self.should_stop(), dtype=torch.bool, device=input_ids.device)


class TextGenerationBackend(Backend):
    """Causal LM through transformers: chat template, left-padded batched generate."""

    task = "text-generation"
    engine = "transformers"

    def __init__(self, resolved: ResolvedSource, device: torch.device, dtype: torch.dtype) -> None:
        super().__init__(resolved, device, dtype)
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(resolved.path, padding_side="left")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(resolved.path, dtype=dtype).to(device).eval()

    def _render(self, item: TextItem) -> str:
        if not self.tokenizer.chat_template:
            return f"{item.system_prompt}\n\n{item.prompt}" if item.system_prompt else item.prompt
        messages = [{"role": "system", "content": item.system_prompt}] if item.system_prompt else []
        messages.append({"role": "user", "content": item.prompt})
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def run(self, items: list[TextItem], params: dict[str, Any], should_stop: StopCheck = _never) -> list[tuple[str, int, int]]:
        """(text, new tokens, prompt tokens) per item; padding is not counted as prompt."""
        from transformers import StoppingCriteriaList

        encoded = self.tokenizer(
            [self._render(item) for item in items], return_tensors="pt", padding=True, add_special_tokens=False
        ).to(self.device)
        sampling = params["temperature"] > 0
        if sampling:
            # Sampled items never share a call (see engine), so one seed fixes the draw.
            torch.manual_seed(items[0].seed or 0)
        with torch.inference_mode():
            output = self.model.generate(
                **encoded,
                max_new_tokens=params["max_new_tokens"],
                do_sample=sampling,
                temperature=params["temperature"] if sampling else None,
                top_p=params["top_p"] if sampling else None,
                top_k=None,
                pad_token_id=self.tokenizer.pad_token_id,
                stopping_criteria=StoppingCriteriaList([_StopWhenAsked(should_stop)]),
            )
        new_tokens = output[:, encoded["input_ids"].shape[1] :]
        prompt_tokens = encoded["attention_mask"].sum(dim=1).tolist()
        return [(*self._decode(row), prompt) for row, prompt in zip(new_tokens, prompt_tokens)]

    def _decode(self, row: torch.Tensor) -> tuple[str, int]:
        ids = row.tolist()
        eos = self.tokenizer.eos_token_id
        length = ids.index(eos) if eos in ids else len(ids)
        return self.tokenizer.decode(ids[:length], skip_special_tokens=True).strip(), length


class TextToImageBackend(Backend):
    """diffusers pipeline; one call per group of equal size, steps and guidance."""

    task = "text-to-image"
    engine = "diffusers"

    def __init__(self, resolved: ResolvedSource, device: torch.device, dtype: torch.dtype) -> None:
        super().__init__(resolved, device, dtype)
        from diffusers import AutoPipelineForText2Image

        # Safety is Pressroom's own stage, applied to every artifact after generation.
        self.pipeline = AutoPipelineForText2Image.from_pretrained(
            resolved.path, dtype=dtype, safety_checker=None, requires_safety_checker=False
        ).to(device)
        self.pipeline.set_progress_bar_config(disable=True)

    def run(self, items: list[ImageItem], params: dict[str, Any], should_stop: StopCheck = _never) -> list[bytes]:
        def interrupt_when_asked(pipeline, step: int, timestep: Any, callback_kwargs: dict) -> dict:
            if should_stop():
                pipeline._interrupt = True  # diffusers skips the remaining denoising steps
            return callback_kwargs

        generators = [torch.Generator(device=self.device).manual_seed(item.seed) for item in items]
        negatives = [item.negative_prompt or "" for item in items]
        with torch.inference_mode():
            images = self.pipeline(
                prompt=[item.prompt for item in items],
                negative_prompt=negatives if any(negatives) else None,
                generator=generators,
                num_inference_steps=params["steps"],
                guidance_scale=params["guidance_scale"],
                width=params["width"],
                height=params["height"],
                output_type="pil",
                callback_on_step_end=interrupt_when_asked,
            ).images
        return [_png_bytes(image) for image in images]


def _png_bytes(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class SentenceEmbeddingBackend(Backend):
    task = "sentence-embedding"
    engine = "sentence-transformers"

    def __init__(self, resolved: ResolvedSource, device: torch.device, dtype: torch.dtype) -> None:
        super().__init__(resolved, device, dtype)
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(resolved.path), device=str(device))
        if dtype == torch.float16:
            self.model.half()

    def run(self, items: list[str], params: dict[str, Any], should_stop: StopCheck = _never) -> list[list[float]]:
        with torch.inference_mode():
            vectors = self.model.encode(items, batch_size=len(items), convert_to_numpy=True)
        return vectors.astype("float32").tolist()


BACKENDS: dict[str, type[Backend]] = {
    backend.task: backend for backend in (TextGenerationBackend, TextToImageBackend, SentenceEmbeddingBackend)
}
