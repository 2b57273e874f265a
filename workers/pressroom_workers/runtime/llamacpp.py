"""llama.cpp engine: a GGUF model in process (llama-cpp-python's low-level API), decoding
many sequences at once with step-level admission (continuous batching).

One scheduler thread owns the llama.cpp context. Callers (any number of executor
threads) hand it sequences and wait. At every decoding step the scheduler admits waiting
sequences (their prompts are evaluated in the same llama_decode call as the next tokens
of running sequences), so a job that arrives while a long batch is decoding starts at
the next step instead of after the batch. Each sequence has its own KV stream and samples
from its own seeded generator: its text depends on its prompt and seed only.

A step decodes at most `step_sequences` of the resident sequences: those of the calls
that have been served the fewest tokens so far first (least attained service, which needs
no guess at a job's length: a newly arrived job goes first, and a long one only waits
while shorter ones are served). On a CPU a step costs about the same per sequence from
eight on, so the cap loses little throughput and keeps a late job's steps short.
"""
from __future__ import annotations

import ctypes
import itertools
import logging
import os
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from pressroom_workers.runtime.backends import Backend, StopCheck, TextItem, TextResult, _never
from pressroom_workers.runtime.sampling import RowSampler
from pressroom_workers.runtime.sources import ModelNotAvailable, ModelSpec, ResolvedSource, gguf_file, resolve_source

logger = logging.getLogger(__name__)

# Sequences decoded together, and the context each one may fill (prompt + output).
DEFAULT_MAX_SEQUENCES = 32
DEFAULT_SEQUENCE_CONTEXT = 768
# Sequences one decoding step serves on a CPU (on a GPU build: every resident one). Measured
# on two cores, SmolLM2-135M: 80 tokens/s at 1 per step, 110-125 at 8, 125-135 at 32, with
# the step taking 6x longer.
CPU_STEP_SEQUENCES = 8
CANCEL_CHECK_SECONDS = 0.1
# Prompts that begin alike (one job's fields share its system prompt and brief) share the
# KV cells of their common beginning when it is at least this long.
MIN_SHARED_PREFIX = 16


class SequenceFailed(RuntimeError):
    pass


@dataclass(eq=False)
class _Sequence:
    item: TextItem
    prompt: list[int]
    budget: int
    sampler: RowSampler
    # The run() call it belongs to: free slots go first to the calls with the fewest
    # sequences decoding, so a job that arrives behind a long queue starts at once.
    call: int = 0
    seq_id: int = -1
    # Set once its prompt has been sent to the model (all of it but a shared prefix).
    prefilled: bool = False
    # Sequences with the very same prompt, admitted with this one: they take a copy of its
    # evaluated prompt and sample their first token from its logits, each with its own seed.
    twins: list = field(default_factory=list)
    # Set by the caller's thread when its jobs asked to stop; read by the scheduler.
    cancelled: bool = False
    position: int = 0
    generated: list[int] = field(default_factory=list)
    pieces: list[bytes] = field(default_factory=list)
    finish_reason: str = ""
    text: str = ""
    # This sequence's share of the model's time: each step's wall time split over the
    # sequences it served. And the most sequences it shared a step with.
    model_seconds: float = 0.0
    peak_batch: int = 0
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


class LlamaCppEngine(Backend):
    task = "text-generation"
    engine = "llama.cpp"
    concurrent = True

    def __init__(self, resolved: ResolvedSource, device: torch.device, dtype: torch.dtype,
                 options: dict[str, Any] | None = None) -> None:
        super().__init__(resolved, device, dtype)
        import llama_cpp
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self._ll = llama_cpp
        options = options or {}
        path = resolved.path if resolved.path.suffix == ".gguf" else gguf_file(resolved.path)
        if path is None:
            raise ModelNotAvailable(f"No single .gguf file in {resolved.path} for the llama.cpp engine")
        self.gguf = path
        self.max_sequences = int(options.get("max_sequences", DEFAULT_MAX_SEQUENCES))
        self.sequence_context = int(options.get("sequence_context", DEFAULT_SEQUENCE_CONTEXT))
        self.shares_prefixes = bool(options.get("kv_unified", False))
        on_gpu = llama_cpp.llama_supports_gpu_offload()
        self.step_sequences = int(options.get("step_sequences") or (self.max_sequences if on_gpu else CPU_STEP_SEQUENCES))
        threads = int(options.get("n_threads") or os.cpu_count() or 1)
        self._options = options
        # llama.cpp prints its loading report through this logger: errors only, unless asked.
        logging.getLogger("llama-cpp-python").setLevel(logging.DEBUG if options.get("verbose") else logging.ERROR)
        llama_cpp.llama_backend_init()
        model_params = llama_cpp.llama_model_default_params()
        self._model = llama_cpp.llama_model_load_from_file(str(path).encode(), model_params)
        if not self._model:
            raise ModelNotAvailable(f"llama.cpp could not load {path}")
        self._vocab = llama_cpp.llama_model_get_vocab(self._model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self._vocab)
        self.n_batch = max(self.sequence_context, 512)
        self._ctx = llama_cpp.llama_init_from_model(self._model, self._context_params(threads))
        if not self._ctx:
            raise ModelNotAvailable(f"llama.cpp could not create a context for {path}")
        self._memory = llama_cpp.llama_get_memory(self._ctx)
        self._batch = llama_cpp.llama_batch_init(self.n_batch, 0, 1)
        metadata = self._metadata()
        self.model_id = metadata.get("general.name", path.stem)
        self._formatter = self._chat_formatter(Jinja2ChatFormatter, metadata)
        self._piece_buffer = ctypes.create_string_buffer(256)
        self._waiting: deque[_Sequence] = deque()
        self._calls = itertools.count()
        # Tokens generated so far for each call with sequences resident: its attained service.
        self._served: Counter = Counter()
        self._free_ids = list(range(self.max_sequences))
        self._active: list[_Sequence] = []
        self._wake = threading.Condition()
        # Read by tests and the benchmark: decoding steps run, the most sequences in one, and
        # prompt tokens taken from another sequence's cells instead of evaluated.
        self.steps = 0
        self.peak_batch = 0
        self.shared_prompt_tokens = 0
        self._thread = threading.Thread(target=self._serve, name="pressroom-llamacpp", daemon=True)
        self._thread.start()

    @classmethod
    def from_spec(cls, spec: ModelSpec, device: torch.device, dtype: torch.dtype) -> LlamaCppEngine:
        return cls(resolve_source(spec), device, dtype, options=spec.options)

    # -- loading -------------------------------------------------------------
    def _context_params(self, threads: int) -> Any:
        params = self._ll.llama_context_default_params()
        params.n_seq_max = self.max_sequences
        # The default, a KV stream per sequence, keeps each sequence's attention to its own
        # cells: its numbers, and so its text, are the same alone or in a crowd. `kv_unified`
        # puts every sequence in one buffer instead, so a prompt prefix shared by several
        # (one job's fields) is stored once and evaluated once: much less prompt work on a
        # CPU, but a sampled text then depends slightly on what else is being decoded.
        params.kv_unified = self.shares_prefixes
        params.flash_attn_type = {"auto": -1, "off": 0, "on": 1}[self._options.get("flash_attn", "auto")]
        params.n_ctx = self.max_sequences * self.sequence_context
        params.n_batch = self.n_batch
        params.n_ubatch = min(self.n_batch, 512)
        params.n_threads = params.n_threads_batch = threads
        params.no_perf = True
        return params

    def _metadata(self) -> dict[str, str]:
        values: dict[str, str] = {}
        buffer = ctypes.create_string_buffer(1 << 16)
        for index in range(self._ll.llama_model_meta_count(self._model)):
            self._ll.llama_model_meta_key_by_index(self._model, index, buffer, len(buffer))
            key = buffer.value.decode("utf-8", "replace")
            self._ll.llama_model_meta_val_str_by_index(self._model, index, buffer, len(buffer))
            values[key] = buffer.value.decode("utf-8", "replace")
        return values

    def _chat_formatter(self, formatter_class: Any, metadata: dict[str, str]) -> Any:
        template = metadata.get("tokenizer.chat_template")
        if not template:
            return None
        return formatter_class(template=template, eos_token=self._token_text(self._ll.llama_vocab_eos(self._vocab)),
                               bos_token=self._token_text(self._ll.llama_vocab_bos(self._vocab)))

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self._ll.llama_vocab_get_text(self._vocab, token).decode("utf-8", "replace")

    # -- prompts and tokens --------------------------------------------------
    def _render(self, item: TextItem) -> str:
        if self._formatter is None:
            return item.plain_text()
        return self._formatter(messages=item.messages()).prompt

    def tokenize(self, text: str) -> list[int]:
        data = text.encode("utf-8")
        capacity = len(data) + 8
        tokens = (self._ll.llama_token * capacity)()
        count = self._ll.llama_tokenize(self._vocab, data, len(data), tokens, capacity,
                                        self._ll.llama_vocab_get_add_bos(self._vocab), True)
        if count < 0:
            raise SequenceFailed(f"Could not tokenize a prompt of {len(data)} bytes")
        return list(tokens[:count])

    def _piece(self, token: int) -> bytes:
        size = self._ll.llama_token_to_piece(self._vocab, token, self._piece_buffer, len(self._piece_buffer), 0, False)
        return self._piece_buffer.raw[:max(size, 0)]

    # -- the caller's side ---------------------------------------------------
    def run(self, items: list[TextItem], params: dict[str, Any], should_stop: StopCheck = _never) -> list[TextResult]:
        call = next(self._calls)
        sequences = [self._sequence(item, call) for item in items]
        with self._wake:
            self._waiting.extend(sequences)
            self._wake.notify()
        try:
            self._wait(sequences, should_stop)
        finally:
            self._served.pop(call, None)  # none of its sequences is resident any more
        failed = next((s.error for s in sequences if s.error is not None), None)
        if failed is not None:
            raise SequenceFailed(str(failed)) from failed
        return [TextResult(s.text, len(s.generated), len(s.prompt), s.finish_reason, s.model_seconds, s.peak_batch)
                for s in sequences]

    @staticmethod
    def _wait(sequences: list[_Sequence], should_stop: StopCheck) -> None:
        """Wait in the caller's thread, which also asks `should_stop` (it may read the
        database): the scheduler only sees the flag."""
        for sequence in sequences:
            while not sequence.done.wait(CANCEL_CHECK_SECONDS):
                if should_stop():
                    for each in sequences:
                        each.cancelled = True

    def _sequence(self, item: TextItem, call: int) -> _Sequence:
        prompt = self.tokenize(self._render(item))
        room = self.sequence_context - len(prompt)
        if room < 1:
            raise SequenceFailed(
                f"The prompt is {len(prompt)} tokens; this engine's sequence context is {self.sequence_context} "
                "(raise `sequence_context` in the model's settings)"
            )
        return _Sequence(item=item, prompt=prompt, budget=max(1, min(item.max_new_tokens, room)),
                         sampler=RowSampler(item.seed, item.temperature, item.top_p), call=call)

    # -- the scheduler -------------------------------------------------------
    def _serve(self) -> None:
        while True:
            with self._wake:
                while not self._waiting and not self._active:
                    self._wake.wait()
                self._admit()
            try:
                self._step()
            except Exception as error:  # noqa: BLE001 - every sequence in the step learns of it
                logger.exception("llama.cpp step failed")
                for sequence in list(self._active):
                    sequence.error = error
                    self._retire(sequence, "error")

    def _admit(self) -> None:
        """Move waiting sequences into free slots while their prompts fit this step. A
        prompt that begins like a resident one takes that prefix's KV cells (shared, not
        recomputed: prompt evaluation is most of the work on a CPU) and evaluates only the
        rest; if the resident one is itself being evaluated in this step, it waits a step."""
        tokens = len(self._active)
        deferred, admitted = [], {}
        while self._waiting and self._free_ids:
            upcoming = self._next_waiting()
            if upcoming.cancelled:
                upcoming.finish_reason = "cancelled"
                upcoming.done.set()
                continue
            leader = admitted.get(tuple(upcoming.prompt))
            if leader is not None:  # the same prompt: evaluated once, copied after this step
                upcoming.seq_id = self._free_ids.pop(0)
                leader.twins.append(upcoming)
                continue
            donor, shared = self._prefix_donor(upcoming)
            if donor is not None and not donor.prefilled:
                deferred.append(upcoming)
                continue
            if self._active and tokens + len(upcoming.prompt) - shared > self.n_batch:
                self._waiting.appendleft(upcoming)
                break
            upcoming.seq_id = self._free_ids.pop(0)
            if donor is not None:
                self._take_prefix(donor, upcoming, shared)
            self._active.append(upcoming)
            admitted[tuple(upcoming.prompt)] = upcoming
            tokens += len(upcoming.prompt) - shared
        self._waiting.extendleft(reversed(deferred))

    def _next_waiting(self) -> _Sequence:
        """The first waiting sequence of the call with the fewest sequences decoding."""
        decoding = Counter(sequence.call for sequence in self._active)
        chosen = min(self._waiting, key=lambda sequence: decoding[sequence.call])
        self._waiting.remove(chosen)
        return chosen

    def _prefix_donor(self, sequence: _Sequence) -> tuple[_Sequence | None, int]:
        """The resident sequence whose prompt shares the longest beginning with this one's,
        and how many tokens to take (never the whole prompt: its last token must run)."""
        best, length = None, 0
        for other in self._active:
            common = len(os.path.commonprefix([other.prompt, sequence.prompt]))
            if common > length:
                best, length = other, common
        length = min(length, len(sequence.prompt) - 1)
        return (best, length) if length >= MIN_SHARED_PREFIX else (None, 0)

    def _take_prefix(self, donor: _Sequence, sequence: _Sequence, shared: int) -> None:
        """Give `sequence` the donor's KV cells of their common prompt beginning. In one
        unified buffer those cells are shared. Separate streams (the batch-invariant
        default) copy only whole: the copy of the donor's stream is cut back to the prefix,
        which leaves the very cells the sequence would have computed alone (the prefix's
        keys and values depend on the prefix only)."""
        if self.shares_prefixes:
            self._ll.llama_memory_seq_cp(self._memory, donor.seq_id, sequence.seq_id, 0, shared)
        else:
            self._ll.llama_memory_seq_cp(self._memory, donor.seq_id, sequence.seq_id, -1, -1)
            self._ll.llama_memory_seq_rm(self._memory, sequence.seq_id, shared, -1)
        sequence.position = shared
        self.shared_prompt_tokens += shared

    def _step(self) -> None:
        self._drop_cancelled()
        if not self._active:
            return
        logits_rows = self._fill_batch(self._scheduled())
        started = time.perf_counter()
        code = self._ll.llama_decode(self._ctx, self._batch)
        if code != 0:
            raise SequenceFailed(f"llama_decode returned {code}")
        self._sample(logits_rows, time.perf_counter() - started)

    def _drop_cancelled(self) -> None:
        for sequence in list(self._active):
            if sequence.cancelled:
                self._retire(sequence, "cancelled")

    def _scheduled(self) -> list[_Sequence]:
        """This step's sequences: every new one (its prompt, so an arriving job starts at
        once), then running ones up to `step_sequences`, those of the calls served the
        fewest tokens first, earlier calls first among equals."""
        new = [sequence for sequence in self._active if not sequence.prefilled]
        running = sorted((sequence for sequence in self._active if sequence.prefilled),
                         key=lambda sequence: (self._served[sequence.call], sequence.call, sequence.seq_id))
        return new + running[:max(self.step_sequences - len(new), 0)]

    def _fill_batch(self, sequences: list[_Sequence]) -> list[tuple[_Sequence, int]]:
        batch = self._batch
        count = 0
        rows = []
        for sequence in sequences:
            tokens = sequence.generated[-1:] if sequence.prefilled else sequence.prompt[sequence.position:]
            sequence.prefilled = True
            for offset, token in enumerate(tokens):
                batch.token[count] = token
                batch.pos[count] = sequence.position + offset
                batch.n_seq_id[count] = 1
                batch.seq_id[count][0] = sequence.seq_id
                batch.logits[count] = offset == len(tokens) - 1
                count += 1
            sequence.position += len(tokens)
            rows.append((sequence, count - 1))
        batch.n_tokens = count
        return rows

    def _sample(self, rows: list[tuple[_Sequence, int]], seconds: float) -> None:
        self.steps += 1
        self.peak_batch = max(self.peak_batch, len(rows))
        for sequence, row in rows:
            sequence.model_seconds += seconds / len(rows)
            sequence.peak_batch = max(sequence.peak_batch, len(rows))
            logits = np.ctypeslib.as_array(self._ll.llama_get_logits_ith(self._ctx, row), shape=(self.n_vocab,))
            twins, sequence.twins = sequence.twins, []
            for twin in twins:
                self._start_twin(sequence, twin, logits, len(rows))
            self._accept(sequence, sequence.sampler.pick(logits))

    def _start_twin(self, leader: _Sequence, twin: _Sequence, logits: np.ndarray, batch: int) -> None:
        """A whole-stream copy of the leader's evaluated prompt (the copy is made before the
        next step), then the twin's own first draw from the same logits."""
        self._ll.llama_memory_seq_cp(self._memory, leader.seq_id, twin.seq_id, -1, -1)
        twin.position, twin.prefilled, twin.peak_batch = leader.position, True, batch
        self.shared_prompt_tokens += len(twin.prompt)
        self._active.append(twin)
        self._accept(twin, twin.sampler.pick(logits))

    def _accept(self, sequence: _Sequence, token: int) -> None:
        if self._ll.llama_vocab_is_eog(self._vocab, token):
            self._retire(sequence, "stop")
            return
        sequence.generated.append(token)
        self._served[sequence.call] += 1
        sequence.pieces.append(self._piece(token))
        if sequence.item.stop:
            text = b"".join(sequence.pieces).decode("utf-8", "ignore")
            start = len(text) - len(text.lstrip())  # a stop before any text is not the end
            cut = min((index for stop in sequence.item.stop if (index := text.find(stop, start)) >= 0), default=-1)
            if cut >= 0:
                self._retire(sequence, "stop", text=text[:cut])
                return
        if len(sequence.generated) >= sequence.budget:
            self._retire(sequence, "length")

    def _retire(self, sequence: _Sequence, reason: str, *, text: str | None = None) -> None:
        sequence.finish_reason = reason
        sequence.text = (text if text is not None else b"".join(sequence.pieces).decode("utf-8", "ignore")).strip()
        self._ll.llama_memory_seq_rm(self._memory, sequence.seq_id, -1, -1)
        self._active.remove(sequence)
        self._free_ids.append(sequence.seq_id)
        self._free_ids.sort()
        self._release_twins(sequence)
        sequence.done.set()

    def _release_twins(self, leader: _Sequence) -> None:
        """Twins of a leader that leaves before its prompt ran (cancelled, or a failed
        step) never got their copy: they fail with it, or go back to wait for a slot."""
        twins, leader.twins = leader.twins, []
        for twin in twins:
            self._free_ids.append(twin.seq_id)
            twin.seq_id = -1
            if leader.error is not None:
                twin.error, twin.finish_reason = leader.error, "error"
                twin.done.set()
            else:
                self._waiting.appendleft(twin)
        self._free_ids.sort()

