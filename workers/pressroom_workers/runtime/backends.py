"""Model backends: load a model folder once, then run a list of compatible items as
one batched call under torch.inference_mode."""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np
import torch

from pressroom_workers.runtime.sampling import CANDIDATE_TIERS, RowSampler
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
    # Few-shot turns shown before the prompt: (request, answer) pairs.
    examples: tuple[tuple[str, str], ...] = ()
    # The job it is written for, and when that job was submitted (epoch seconds): an engine
    # that schedules its own work serves jobs, not calls (a job's regeneration rounds are
    # new calls of the same job), and knows which arrived late. Never part of the output.
    owner: str = ""
    submitted_at: float | None = None

    def messages(self) -> list[dict[str, str]]:
        """The item as chat messages: system prompt, example turns, then the prompt."""
        messages = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        for request, answer in self.examples:
            messages += [{"role": "user", "content": request}, {"role": "assistant", "content": answer}]
        return messages + [{"role": "user", "content": self.prompt}]

    def plain_text(self) -> str:
        """The item for a model without a chat template: the same turns, one after another."""
        turns = [self.system_prompt] if self.system_prompt else []
        turns += [f"{request}\n{answer}" for request, answer in self.examples]
        return "\n\n".join([*turns, self.prompt])


class TextResult(NamedTuple):
    text: str
    new_tokens: int
    prompt_tokens: int
    # "stop": end of text or a stop sequence; "length": the token budget ran out.
    finish_reason: str = "stop"
    # Set by engines that batch continuously, where items join and leave a running call:
    # this item's own share of the model's time, and the most items it was decoded with.
    model_seconds: float | None = None
    batch_size: int = 0


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
    # True for engines that take calls from several threads at once and batch them.
    concurrent: ClassVar[bool] = False

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


class _RowEnds:
    """A transformers StoppingCriteria that ends each row on its own: at an end-of-text
    token, at the first of its item's stop strings, or when its item's budget is spent.
    It records where and why each row ended (`ends`); rows still open have None."""

    def __init__(self, items: list[TextItem], prompt_length: int, eos_ids: set[int],
                 decode: Callable[[list[int]], str]) -> None:
        self.budgets = [item.max_new_tokens for item in items]
        self.stops = [item.stop for item in items]
        self.prompt_length = prompt_length
        self.eos_ids = eos_ids
        self.decode = decode
        self.ends: list[tuple[int, str] | None] = [None] * len(items)

    def open_rows(self) -> list[int]:
        return [row for row, end in enumerate(self.ends) if end is None]

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        generated = input_ids.shape[1] - self.prompt_length
        open_rows = self.open_rows()
        last = input_ids[:, -1].tolist()
        texts: dict[int, str] = {}
        if any(self.stops[row] for row in open_rows):
            new = input_ids[:, self.prompt_length :].tolist()
            texts = {row: self.decode(new[row]) for row in open_rows if self.stops[row]}
        for row in open_rows:
            if last[row] in self.eos_ids:
                self.ends[row] = (generated, "eos")
            elif row in texts and _stop_at(texts[row], self.stops[row]) >= 0:
                self.ends[row] = (generated, "stop")
            elif generated >= self.budgets[row]:
                self.ends[row] = (generated, "length")
        return torch.tensor([end is not None for end in self.ends], dtype=torch.bool, device=input_ids.device)


class _RowPicker:
    """A transformers LogitsProcessor that picks every row's next token by the RowSampler
    rule, each sampled row drawing from its own generator (seeded by its item), and
    returns scores that allow only that token, so generate(do_sample=False) takes it.
    Rows already ended get `pad_id` and draw nothing.

    Greedy rows take the argmax. Sampled rows: temperature, then top-p over the tokens
    by falling probability (equal ones by id), then one uniform draw, as RowSampler.pick,
    but for all rows at once on the model's device and without sorting the vocabulary:
    the most likely tokens are ranked in tiers (CANDIDATE_TIERS), a row settles in the
    first tier that holds its nucleus (or, when top_p takes every token, its draw), and
    only rows that settle in none rank the whole vocabulary. Probabilities are float64,
    as in RowSampler, but for rows settled by the first tier the mass outside it is
    summed in float32 (an error of about 1e-7 of that small mass)."""

    def __init__(self, items: list[TextItem], ends: _RowEnds, pad_id: int) -> None:
        self.samplers = [RowSampler(item.seed, item.temperature, item.top_p) for item in items]
        self.ends = ends
        self.pad_id = pad_id

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        tokens = scores.argmax(dim=-1)
        open_rows = self.ends.open_rows()
        sampled = [row for row in open_rows if not self.samplers[row].greedy]
        if sampled:
            picks = self._sample(scores[torch.tensor(sampled, device=scores.device)], sampled)
            tokens[torch.tensor(sampled, device=scores.device)] = torch.tensor(picks, device=scores.device)
        if len(open_rows) < len(self.samplers):
            ended = sorted(set(range(len(self.samplers))) - set(open_rows))
            tokens[torch.tensor(ended, device=scores.device)] = self.pad_id
        forced = torch.full_like(scores, float("-inf"))
        return forced.scatter_(1, tokens[:, None], 0.0)

    def _sample(self, logits: torch.Tensor, rows: list[int]) -> list[int]:
        samplers = [self.samplers[row] for row in rows]
        draws = [sampler.rng.random() for sampler in samplers]  # one draw per token, as RowSampler.pick
        temperatures = torch.tensor([[s.temperature] for s in samplers], dtype=torch.float64, device=logits.device)
        vocabulary = logits.shape[1]
        tiers = (*(tier for tier in CANDIDATE_TIERS if tier < vocabulary), vocabulary)
        top, ids = logits.topk(tiers[0], dim=1)
        peak = top[:, :1].double() / temperatures
        # The normaliser: the first tier's mass in float64, the rest's (small) in float32;
        # exact for the rows that go past the first tier.
        total = torch.exp(top.double() / temperatures - peak).sum(dim=1, keepdim=True)
        if tiers[0] < vocabulary:
            rest = logits.scatter(1, ids, float("-inf")) / temperatures.float() - peak.float()
            total = total + torch.exp(torch.logsumexp(rest, dim=1, keepdim=True).double())
        picks: dict[int, int] = {}
        pending = list(range(len(rows)))
        for tier, size in enumerate(tiers):
            index = torch.tensor(pending, device=logits.device)
            found = (top[index], ids[index]) if tier == 0 else logits[index].topk(size, dim=1)
            if tier == 1:  # these rows draw among the less likely tokens: normalise them exactly
                exact = torch.exp(logits[index].double() / temperatures[index] - peak[index])
                total[index] = exact.sum(dim=1, keepdim=True)
            ranked, cumulative = _ranked(*found, temperatures[index], peak[index], total[index])
            for position, row in enumerate(pending):
                complete = size == vocabulary
                pick = _pick(ranked[position], cumulative[position], samplers[row].top_p, draws[row], complete)
                if pick is not None:
                    picks[row] = pick
            pending = [row for row in pending if row not in picks]
            if not pending:
                break
        return [picks[row] for row in range(len(rows))]


def _ranked(top: torch.Tensor, ids: torch.Tensor, temperatures: torch.Tensor, peak: torch.Tensor,
            total: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Candidate tokens (each row's most likely, from topk) by falling probability, equal
    ones in id order (RowSampler's order), and their cumulative probabilities."""
    # A positive temperature keeps the order, so topk on the raw logits finds the candidates.
    shifted = torch.exp(top.double() / temperatures - peak)
    ids, order = ids.sort(dim=1)
    shifted, order = shifted.gather(1, order).sort(dim=1, descending=True, stable=True)
    return ids.gather(1, order).cpu().numpy(), (shifted.cumsum(dim=1) / total).cpu().numpy()


def _pick(ids: np.ndarray, cumulative: np.ndarray, top_p: float, draw: float, complete: bool) -> int | None:
    """RowSampler's pick among ranked candidates, or None when they do not settle it:
    they hold less than the nucleus, and the draw may land past them."""
    if complete or cumulative[-1] >= top_p:
        keep = int(np.searchsorted(cumulative, min(top_p, cumulative[-1]) - 1e-12)) + 1
        ids, cumulative = ids[:keep], cumulative[:keep]
        mass = cumulative[-1]
    elif top_p >= 1.0 and draw < cumulative[-1]:
        mass = 1.0  # the nucleus is every token (mass 1): the draw lands among these
    else:
        return None
    return int(ids[min(int(np.searchsorted(cumulative, draw * mass, side="right")), len(ids) - 1)])


class TextGenerationBackend(Backend):
    """Causal LM through transformers: chat template, left-padded batched generate. One
    call serves items of any decoding settings: each row picks its tokens by its own
    item's temperature, top_p and seed (`_RowPicker`) and ends on its own (`_RowEnds`)."""

    task = "text-generation"
    engine = "transformers"

    def __init__(self, resolved: ResolvedSource, device: torch.device, dtype: torch.dtype) -> None:
        super().__init__(resolved, device, dtype)
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(resolved.path, padding_side="left")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(resolved.path, dtype=dtype).to(device).eval()
        configured = self.model.generation_config.eos_token_id
        configured = configured if isinstance(configured, list) else [configured]
        self.eos_ids = {token for token in (*configured, self.tokenizer.eos_token_id) if token is not None}

    def _render(self, item: TextItem) -> str:
        if not self.tokenizer.chat_template:
            return item.plain_text()
        return self.tokenizer.apply_chat_template(item.messages(), tokenize=False, add_generation_prompt=True)

    def _text(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def run(self, items: list[TextItem], params: dict[str, Any], should_stop: StopCheck = _never) -> list[TextResult]:
        """One TextResult per item. The call runs to the largest budget; padding is
        counted neither as prompt nor as new tokens."""
        from transformers import LogitsProcessorList, StoppingCriteriaList

        encoded = self.tokenizer(
            [self._render(item) for item in items], return_tensors="pt", padding=True, add_special_tokens=False
        ).to(self.device)
        prompt_length = encoded["input_ids"].shape[1]
        ends = _RowEnds(items, prompt_length, self.eos_ids, self._text)
        with torch.inference_mode():
            output = self.model.generate(
                **encoded,
                max_new_tokens=max([1, *(item.max_new_tokens for item in items)]),
                do_sample=False,  # _RowPicker leaves one token per row
                temperature=None,
                top_p=None,
                top_k=None,
                pad_token_id=self.tokenizer.pad_token_id,
                logits_processor=LogitsProcessorList([_RowPicker(items, ends, self.tokenizer.pad_token_id)]),
                stopping_criteria=StoppingCriteriaList([ends, _StopWhenAsked(should_stop)]),
            )
        generated = output[:, prompt_length:].tolist()
        prompt_tokens = encoded["attention_mask"].sum(dim=1).tolist()
        return [
            self._result(item, row, end or (len(row), "length"), prompt)
            for item, row, end, prompt in zip(items, generated, ends.ends, prompt_tokens)
        ]

    def _result(self, item: TextItem, row: list[int], end: tuple[int, str], prompt_tokens: int) -> TextResult:
        """New tokens are those the row generated (the ones spelling a stop string
        included), less its end-of-text token and the padding after it."""
        length, reason = end
        ids = row[: length - 1] if reason == "eos" else row[:length]
        text = self._text(ids)
        cut = _stop_at(text, item.stop)
        if cut >= 0:
            return TextResult(text[:cut].strip(), len(ids), prompt_tokens, "stop")
        return TextResult(text.strip(), len(ids), prompt_tokens, "length" if reason == "length" else "stop")


def _stop_at(text: str, stops: tuple[str, ...]) -> int:
    """Where the first of the stop strings starts in the text, or -1. A stop string in the
    leading whitespace, before any text, does not count."""
    start = len(text) - len(text.lstrip())
    return min((index for stop in stops if (index := text.find(stop, start)) >= 0), default=-1)


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
