"""Executes runtime requests from many jobs: expands them into items, groups items
that can share a model call, runs each group in chunks, and hands results back."""
from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pressroom.plugins import (
    EmbeddingOutput,
    EmbedTexts,
    GenerateImages,
    GenerateText,
    ImageOutput,
    ModelProvenance,
    RuntimeRequest,
    TextOutput,
)
from pressroom.usage.metering import call_share

from pressroom_workers.runtime.backends import Backend, ImageItem, TextItem, TextResult
from pressroom_workers.runtime.engines import backend_class
from pressroom_workers.runtime.device import (
    is_out_of_memory,
    pick_device,
    pick_dtype,
    release_cached_memory,
)
from pressroom_workers.runtime.sources import (
    ModelNotAvailable,
    ModelSpec,
)

logger = logging.getLogger(__name__)

# Items per model call, by task: generation is bounded by memory, embeddings are cheap.
MAX_ITEMS_PER_CALL = {"text-generation": 32, "text-to-image": 8, "sentence-embedding": 256}


class RequestFailed(Exception):
    """A runtime request could not be served; `transient` errors are worth a retry."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class OutOfMemoryAtBatchOne(RequestFailed):
    def __init__(self, alias: str) -> None:
        super().__init__(f"Model {alias!r} ran out of device memory even for a single item", transient=True)


@dataclass
class LoadedModel:
    spec: ModelSpec
    backend: Backend
    load_seconds: float
    # Engines that schedule their own work (llama.cpp, openai) take calls from many
    # threads at once; the others run one call at a time.
    call_lock: threading.Lock = field(default_factory=threading.Lock)

    def provenance(self, batch_id: str, batch_size: int, call_seconds: float) -> ModelProvenance:
        resolved = self.backend.resolved
        return ModelProvenance(
            alias=self.spec.alias,
            source=resolved.source,
            revision=resolved.revision,
            placeholder=resolved.placeholder,
            device=str(self.backend.device),
            dtype=str(self.backend.dtype).removeprefix("torch."),
            batch_id=batch_id,
            batch_size=batch_size,
            call_seconds=call_seconds,
            engine=self.backend.engine,
            endpoint=self.backend.endpoint,
            model_id=self.backend.model_id,
        )


@dataclass
class _Item:
    request_index: int
    position: int
    payload: Any


@dataclass
class ModelCall:
    """One batched model call, kept for status pages, tests and benchmarks."""

    alias: str
    size: int
    seconds: float
    params: dict = field(default_factory=dict)
    device: str = ""


@dataclass
class _Execution:
    """One `execute`: its cancellation check, its results, and the model calls it made."""

    cancelled: Callable[[], set[int]]
    outputs: dict[tuple[int, int], Any] = field(default_factory=dict)
    provenances: dict[tuple[int, int], ModelProvenance] = field(default_factory=dict)
    calls: list[ModelCall] = field(default_factory=list)


@dataclass
class _Group:
    alias: str
    params: dict[str, Any]
    items: list[_Item] = field(default_factory=list)


def _text_items(request: GenerateText) -> list[TextItem]:
    """Each prompt with its own seed, budget and decoding settings: text items of any
    settings share a model call, since every row samples from its own generator."""
    seeds = request.seeds or (None,) * len(request.prompts)
    budgets = request.budgets or (request.max_new_tokens,) * len(request.prompts)
    temperatures = request.temperatures or (request.temperature,) * len(request.prompts)
    examples = request.examples or ((),) * len(request.prompts)
    return [
        TextItem(prompt, request.system_prompt, seed, max_new_tokens=budget, temperature=temperature,
                 top_p=request.top_p, stop=request.stop, examples=tuple(tuple(turn) for turn in shots))
        for prompt, seed, budget, temperature, shots in zip(request.prompts, seeds, budgets, temperatures, examples)
    ]


def _expand(request: RuntimeRequest) -> list[tuple[str, dict[str, Any], Any]]:
    """(alias, group params, payload) for every item of a request."""
    if isinstance(request, GenerateText):
        return [(request.model, {}, item) for item in _text_items(request)]
    if isinstance(request, GenerateImages):
        params = {
            "width": request.width,
            "height": request.height,
            "steps": request.steps,
            "guidance_scale": request.guidance_scale,
        }
        return [
            (request.model, params, ImageItem(prompt, request.negative_prompt, seed))
            for prompt, seed in zip(request.prompts, request.seeds)
        ]
    if isinstance(request, EmbedTexts):
        return [(request.model, {}, text) for text in request.texts]
    raise RequestFailed(f"Unknown runtime request {type(request).__name__}")


def _own_share(provenance: ModelProvenance, result: Any) -> ModelProvenance:
    """An engine that batches continuously measures each item's time and batch itself."""
    if not isinstance(result, TextResult) or result.model_seconds is None:
        return provenance
    return replace(provenance, model_seconds=result.model_seconds,
                   batch_size=result.batch_size or provenance.batch_size)


class ModelRuntime:
    def __init__(self, loader: Callable[[str], LoadedModel] | None = None) -> None:
        self._models: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()
        self._loader = loader or self._load
        self.calls: list[ModelCall] = []
        # Several executor threads may share the runtime: each sees its own last calls.
        self._local = threading.local()

    # -- models --------------------------------------------------------------
    def _load(self, alias: str) -> LoadedModel:
        spec = ModelSpec.from_settings(alias)
        started = time.perf_counter()
        device = pick_device(spec.device)
        backend = backend_class(spec, device).from_spec(spec, device, pick_dtype(spec.dtype, device))
        seconds = time.perf_counter() - started
        logger.info("Loaded model %s from %s with %s on %s in %.1fs",
                    alias, backend.resolved.source, backend.engine, device, seconds)
        return LoadedModel(spec=spec, backend=backend, load_seconds=seconds)

    def model(self, alias: str) -> LoadedModel:
        """The loaded model for an alias, loading it on first use (once per process)."""
        with self._lock:
            if alias not in self._models:
                self._models[alias] = self._loader(alias)
            return self._models[alias]

    def loaded_aliases(self) -> list[str]:
        return sorted(self._models)

    # -- execution -----------------------------------------------------------
    def execute(self, requests: Sequence[RuntimeRequest], cancelled: Callable[[], set[int]] | None = None,
                owners: Sequence[tuple[str, float]] | None = None) -> list[Any]:
        """Serve requests together; each entry of the result is the request's output
        or a RequestFailed. One failing group does not fail unrelated requests.

        `cancelled` names the requests whose jobs asked to stop; a model call is abandoned
        between steps once every request in it is cancelled (others in the call keep it going).
        `owners` names each request's job and when it was submitted (epoch seconds), for
        engines that schedule jobs rather than calls."""
        state = _Execution(cancelled or (lambda: set()))
        self._local.calls = state.calls
        groups, failures = self._group(requests, owners)
        for group in groups.values():
            try:
                self._run_group(group, state)
            except Exception as error:  # noqa: BLE001 - reported per request, never swallowed
                failure = error if isinstance(error, RequestFailed) else RequestFailed(f"{type(error).__name__}: {error}")
                if isinstance(error, ModelNotAvailable):
                    failure = RequestFailed(str(error))
                logger.exception("Model group %s failed", group.alias)
                for item in group.items:
                    failures[item.request_index] = failure
        return [
            failures.get(index) or self._assemble(request, index, state.outputs, state.provenances)
            for index, request in enumerate(requests)
        ]

    def batches_continuously(self, request: RuntimeRequest) -> bool:
        """Whether the request's model is served by an engine that merges calls from many
        threads step by step (so a job may send it on its own without losing batching)."""
        try:
            return isinstance(request, GenerateText) and self.model(request.model).backend.concurrent
        except Exception:  # noqa: BLE001 - a model that cannot load fails in execute, with its reason
            return False

    @property
    def last_calls(self) -> list[ModelCall]:
        """The model calls of this thread's latest `execute`."""
        return list(getattr(self._local, "calls", []))

    def _group(self, requests: Sequence[RuntimeRequest],
               owners: Sequence[tuple[str, float]] | None = None) -> tuple[dict[Any, _Group], dict[int, RequestFailed]]:
        groups: dict[Any, _Group] = {}
        failures: dict[int, RequestFailed] = {}
        for index, request in enumerate(requests):
            try:
                expanded = _expand(request)
            except RequestFailed as error:
                failures[index] = error
                continue
            for position, (alias, params, payload) in enumerate(expanded):
                if owners and isinstance(payload, TextItem):
                    payload = replace(payload, owner=owners[index][0], submitted_at=owners[index][1])
                key = (type(request).__name__, alias, tuple(sorted(params.items())))
                groups.setdefault(key, _Group(alias, params)).items.append(_Item(index, position, payload))
        return groups, failures

    def _run_group(self, group: _Group, state: _Execution) -> None:
        model = self.model(group.alias)
        # An engine that batches continuously takes everything at once and schedules it.
        chunk = len(group.items) if model.backend.concurrent else MAX_ITEMS_PER_CALL.get(model.spec.task, 8)
        for start in range(0, len(group.items), chunk):
            self._run_chunk(model, group.params, group.items[start : start + chunk], state)

    def _call(self, model: LoadedModel, params: dict, items: list[_Item], state: _Execution) -> list[Any]:
        indexes = {item.request_index for item in items}
        payloads = [item.payload for item in items]
        stop = lambda: indexes <= state.cancelled()  # noqa: E731
        if model.backend.concurrent:
            return model.backend.run(payloads, params, should_stop=stop)
        with model.call_lock:
            return model.backend.run(payloads, params, should_stop=stop)

    def _run_chunk(self, model: LoadedModel, params: dict, items: list[_Item], state: _Execution) -> None:
        try:
            started = time.perf_counter()
            results = self._call(model, params, items, state)
        except Exception as error:
            if not is_out_of_memory(error):
                raise
            release_cached_memory()
            if len(items) == 1:
                raise OutOfMemoryAtBatchOne(model.spec.alias) from error
            # Out of device memory: halve the batch and try again.
            middle = len(items) // 2
            logger.warning("Out of memory with %d items on %s; splitting", len(items), model.spec.alias)
            self._run_chunk(model, params, items[:middle], state)
            self._run_chunk(model, params, items[middle:], state)
            return
        seconds = time.perf_counter() - started
        call = ModelCall(model.spec.alias, len(items), seconds, dict(params), str(model.backend.device))
        self.calls.append(call)
        state.calls.append(call)
        # The call's measured time goes with its outputs: the usage ledger shares it out.
        provenance = model.provenance(batch_id=uuid.uuid4().hex, batch_size=len(items), call_seconds=seconds)
        for item, result in zip(items, results):
            state.outputs[(item.request_index, item.position)] = result
            state.provenances[(item.request_index, item.position)] = _own_share(provenance, result)

    @staticmethod
    def _text_output(request: GenerateText, item: TextItem, result: TextResult, provenance: ModelProvenance) -> TextOutput:
        return TextOutput(
            text=result.text,
            new_tokens=result.new_tokens,
            prompt_tokens=result.prompt_tokens,
            seed=item.seed,
            params={
                "max_new_tokens": item.max_new_tokens,
                "temperature": item.temperature,
                "top_p": item.top_p,
                "system_prompt": request.system_prompt,
                "prompt": item.prompt,
                "new_tokens": result.new_tokens,
                "finish_reason": result.finish_reason,
                **({"stop": list(item.stop)} if item.stop else {}),
                **({"examples": [list(turn) for turn in item.examples]} if item.examples else {}),
            },
            provenance=provenance,
        )

    def _assemble(self, request: RuntimeRequest, index: int, outputs: dict, provenances: dict) -> Any:
        if isinstance(request, GenerateText):
            return [self._text_output(request, item, outputs[(index, position)], provenances[(index, position)])
                    for position, item in enumerate(_text_items(request))]
        if isinstance(request, GenerateImages):
            return [
                ImageOutput(
                    png=outputs[(index, position)],
                    seed=request.seeds[position],
                    params={
                        "width": request.width,
                        "height": request.height,
                        "steps": request.steps,
                        "guidance_scale": request.guidance_scale,
                        "negative_prompt": request.negative_prompt,
                        "prompt": prompt,
                    },
                    provenance=provenances[(index, position)],
                )
                for position, prompt in enumerate(request.prompts)
            ]
        positions = range(len(request.texts))
        vectors = [outputs[(index, position)] for position in positions]
        seconds = sum(call_share(provenances[(index, position)]) for position in positions)
        return EmbeddingOutput(vectors=vectors, provenance=provenances.get((index, 0)), model_seconds=seconds)


_runtime: ModelRuntime | None = None


def get_runtime() -> ModelRuntime:
    """The process-wide runtime: models stay loaded for the life of the worker process."""
    global _runtime
    if _runtime is None:
        _runtime = ModelRuntime()
    return _runtime
