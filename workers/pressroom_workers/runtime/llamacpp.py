"""llama.cpp engine: a GGUF model in process (llama-cpp-python's low-level API), decoding
many sequences at once with step-level admission (continuous batching).

One scheduler thread owns the llama.cpp context. Callers (any number of executor
threads) hand it sequences and wait. At every decoding step the scheduler admits waiting
sequences (their prompts are evaluated in the same llama_decode call as the next tokens
of running sequences), so a job that arrives while a long batch is decoding starts at
the next step instead of after the batch. Each sequence has its own KV stream and samples
from its own seeded generator: its text depends on its prompt and seed only.

Jobs are scheduled, not calls (an item's `owner` is its job; a job's regeneration rounds
are new calls of the same job), in two classes, as a multi-level feedback queue does:
  - a job is in the foreground until the model has evaluated FOREGROUND_TOKENS for it
    (about a short job's whole work). While any is, only its cohort is served: the jobs
    submitted within COHORT_SECONDS of the newest foreground job (its items'
    `submitted_at`, else when the engine first saw it), whatever their class. A job
    submitted while a campaign is decoding runs as if alone instead of at the pace of the
    whole batch, and jobs submitted together still decode together;
  - the background is served by least attained service (tokens generated per sequence
    so far, which needs no guess at a job's length): the least advanced jobs and those
    close to them (at most twice as far plus CO_SCHEDULE_TOKENS), so they progress
    together in large steps.
On a CPU a step's time is its token count (4-5 ms a token here, prompt or output, from
a handful per step on). Prompts run in chunks of at most `step_tokens` a step, so
decoding sequences are never held up for long.

A freed slot keeps the KV cells of its prompt: a later prompt that begins the same way (a
job's regeneration round, the next job of a use case: same system prompt and brief)
takes them over instead of evaluating that beginning again.
"""
from __future__ import annotations

import ctypes
import itertools
import logging
import os
import threading
import time
from collections import Counter, OrderedDict, deque
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
# Prompt tokens a step may evaluate on a CPU build (a GPU build: the batch, less a token
# for each sequence). Measured on two cores, SmolLM2-135M: 200 tokens/s in chunks of 8,
# 310 in chunks of 128, 320 in chunks of 512.
CPU_STEP_TOKENS = 128
# A job is served with the least advanced while its progress is at most twice theirs plus
# this many tokens per sequence.
CO_SCHEDULE_TOKENS = 8
# A job is in the foreground until this many of its tokens (prompt or output) have been
# evaluated: an e-mail subject job needs about 1,000 here, an ad-copy job over 3,000.
FOREGROUND_TOKENS = 2048
# Foreground jobs first seen within this long of each other form one cohort.
COHORT_SECONDS = 1.0
# A job between two calls (its use case reviewing the last answers) still counts as
# present for this long: the others do not take a long step in the gap.
BETWEEN_CALLS_SECONDS = 0.25
# Free slots only a job of the newest cohort may take: the older ones' paused sequences
# hold theirs, and a late job must not wait for one of them to end.
RESERVED_SLOTS_SHARE = 8  # one slot in eight
# Jobs whose progress is remembered (their later calls are the same job), newest kept.
REMEMBERED_JOBS = 4096
CANCEL_CHECK_SECONDS = 0.1
# Prompts that begin alike (one job's fields share its system prompt and brief) share the
# KV cells of their common beginning when it is at least this long.
MIN_SHARED_PREFIX = 16


class SequenceFailed(RuntimeError):
    pass


@dataclass
class _JobService:
    """What the engine has done for one job so far."""

    # When it was submitted (epoch seconds).
    arrived: float
    generated: int = 0
    sequences: int = 0
    evaluated: int = 0

    @property
    def progress(self) -> float:
        """Tokens generated per sequence: what least attained service orders by."""
        return self.generated / max(self.sequences, 1)


@dataclass(eq=False)
class _Sequence:
    item: TextItem
    prompt: list[int]
    budget: int
    sampler: RowSampler
    # The run() call it belongs to: free slots go first to the calls with the fewest
    # sequences decoding, so a job that arrives behind a long queue starts at once.
    call: int = 0
    # The job it serves (its item's owner, else its call): the unit of fair service.
    owner: str = ""
    seq_id: int = -1
    # Sequences with the very same prompt, admitted with this one: they take a copy of its
    # evaluated prompt and sample their first token from its logits, each with its own seed.
    twins: list = field(default_factory=list)
    # Set by the caller's thread when its jobs asked to stop; read by the scheduler.
    cancelled: bool = False
    # Tokens whose KV cells it holds (its prompt's, evaluated or taken over, then its own).
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

    @property
    def prefilled(self) -> bool:
        """Its whole prompt has been evaluated: it is decoding."""
        return self.position >= len(self.prompt)


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
        self.n_batch = max(self.sequence_context, 512)
        # A step's prompt chunks and one token per decoding sequence must fit the batch.
        room = self.n_batch - self.max_sequences
        on_gpu = llama_cpp.llama_supports_gpu_offload()
        self.step_tokens = min(int(options.get("step_tokens") or (room if on_gpu else CPU_STEP_TOKENS)), room)
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
        self._ctx = llama_cpp.llama_init_from_model(self._model, self._context_params(threads))
        if not self._ctx:
            raise ModelNotAvailable(f"llama.cpp could not create a context for {path}")
        self._memory = llama_cpp.llama_get_memory(self._ctx)
        self._batch = llama_cpp.llama_batch_init(self.n_batch, 0, 1)
        metadata = self._metadata()
        self.model_id = metadata.get("general.name", path.stem)
        self._formatter = self._chat_formatter(Jinja2ChatFormatter, metadata)
        self._piece_buffer = ctypes.create_string_buffer(256)
        # Every token's text and whether it ends generation, read once: a ctypes call lets go
        # of the GIL, and with a dozen executor threads about, taking it back can wait a
        # thread switch (5 ms) each time; per token, that was most of a small step.
        self._pieces = [self._piece(token) for token in range(self.n_vocab)]
        self._ends = frozenset(token for token in range(self.n_vocab) if llama_cpp.llama_vocab_is_eog(self._vocab, token))
        self._waiting: deque[_Sequence] = deque()
        self._calls = itertools.count()
        # What each job has been served so far, by owner, most recently seen last.
        self._jobs: OrderedDict[str, _JobService] = OrderedDict()
        # Jobs whose last resident sequence ended lately (monotonic time): between two calls.
        self._just_left: dict[str, float] = {}
        # Free slots that still hold the KV cells of a prompt, oldest first: slot -> tokens.
        self._cached: dict[int, list[int]] = {}
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
        self._wait(sequences, should_stop)
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
                         sampler=RowSampler(item.seed, item.temperature, item.top_p), call=call,
                         owner=item.owner or f"call-{call}")

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
        """Move waiting sequences into free slots. A prompt that begins like a resident one,
        or like one whose cells a free slot still holds, takes that prefix's KV cells
        instead of evaluating them (prompt evaluation is most of the work on a CPU); if the
        resident one has not evaluated that far yet, it waits a step."""
        if not (self._waiting and self._free_ids):
            return  # the usual step: nothing to admit, so no scan of the resident jobs
        deferred, admitted = [], {}
        newest_resident = max((self._job(sequence.owner).arrived for sequence in self._active), default=float("-inf"))
        reserved = self.max_sequences // RESERVED_SLOTS_SHARE
        while self._waiting and self._free_ids:
            upcoming = self._next_waiting()
            if upcoming.cancelled:
                upcoming.finish_reason = "cancelled"
                upcoming.done.set()
                continue
            arrived = self._job(upcoming.owner, upcoming.item.submitted_at).arrived
            if len(self._free_ids) <= reserved and arrived < newest_resident - COHORT_SECONDS:
                deferred.append(upcoming)  # the last free slots are kept for a newer job
                continue
            leader = admitted.get(tuple(upcoming.prompt))
            if leader is not None:  # the same prompt: evaluated once, copied once it has run
                upcoming.seq_id = self._claim_slot()
                leader.twins.append(upcoming)
                self._count_sequence(upcoming)
                continue
            donor, shared = self._prefix_donor(upcoming)
            if isinstance(donor, _Sequence) and donor.position < shared:
                deferred.append(upcoming)
                continue
            self._place(upcoming, donor, shared)
            self._active.append(upcoming)
            self._count_sequence(upcoming)
            admitted[tuple(upcoming.prompt)] = upcoming
        self._waiting.extendleft(reversed(deferred))

    def _count_sequence(self, sequence: _Sequence) -> None:
        self._job(sequence.owner, sequence.item.submitted_at).sequences += 1
        self._jobs.move_to_end(sequence.owner)
        while len(self._jobs) > REMEMBERED_JOBS:
            self._jobs.popitem(last=False)

    def _job(self, owner: str, submitted_at: float | None = None) -> _JobService:
        if owner not in self._jobs:
            self._jobs[owner] = _JobService(arrived=submitted_at or time.time())
        return self._jobs[owner]

    def _next_waiting(self) -> _Sequence:
        """The first waiting sequence of the call with the fewest sequences decoding."""
        decoding = Counter(sequence.call for sequence in self._active)
        chosen = min(self._waiting, key=lambda sequence: decoding[sequence.call])
        self._waiting.remove(chosen)
        return chosen

    def _prefix_donor(self, sequence: _Sequence) -> tuple[_Sequence | int | None, int]:
        """The resident sequence, or the free slot's cached prompt, that shares the longest
        beginning with this prompt, and how many tokens to take (never the whole prompt:
        its last token must run to give the first draw)."""
        best, length = None, 0
        candidates = [(other, other.prompt) for other in self._active] + list(self._cached.items())
        for donor, prompt in candidates:
            common = len(os.path.commonprefix([prompt, sequence.prompt]))
            if common > length or (common == length and isinstance(donor, int)):
                best, length = donor, common
        length = min(length, len(sequence.prompt) - 1)
        return (best, length) if length >= MIN_SHARED_PREFIX else (None, 0)

    def _claim_slot(self, cached: int | None = None) -> int:
        """A free slot: `cached` (its cells kept), else an empty one, else the one whose
        cached prompt was left longest ago (its cells dropped)."""
        if cached is not None:
            self._free_ids.remove(cached)
            del self._cached[cached]
            return cached
        empty = [slot for slot in self._free_ids if slot not in self._cached]
        slot = empty[0] if empty else next(iter(self._cached))
        self._free_ids.remove(slot)
        if self._cached.pop(slot, None) is not None:
            self._ll.llama_memory_seq_rm(self._memory, slot, -1, -1)
        return slot

    def _place(self, sequence: _Sequence, donor: _Sequence | int | None, shared: int) -> None:
        """Give `sequence` a slot holding the KV cells of the prefix it shares with `donor`.
        A free slot with that prefix cached is taken as it is, cut back to the prefix. A
        resident donor's cells are shared in one unified buffer; separate streams (the
        batch-invariant default) copy only whole, so the copy is cut back to the prefix,
        which leaves the very cells the sequence would have computed alone (a prefix's
        keys and values depend on the prefix only)."""
        if isinstance(donor, int):
            sequence.seq_id = self._claim_slot(cached=donor)
            self._ll.llama_memory_seq_rm(self._memory, sequence.seq_id, shared, -1)
        else:
            sequence.seq_id = self._claim_slot()
            if donor is not None and self.shares_prefixes:
                self._ll.llama_memory_seq_cp(self._memory, donor.seq_id, sequence.seq_id, 0, shared)
            elif donor is not None:
                self._ll.llama_memory_seq_cp(self._memory, donor.seq_id, sequence.seq_id, -1, -1)
                self._ll.llama_memory_seq_rm(self._memory, sequence.seq_id, shared, -1)
        sequence.position = shared
        self.shared_prompt_tokens += shared

    def _step(self) -> None:
        self._drop_cancelled()
        if not self._active:
            return
        plan = self._plan()
        logits_rows = self._fill_batch(plan)
        started = time.perf_counter()
        code = self._ll.llama_decode(self._ctx, self._batch)
        if code != 0:
            raise SequenceFailed(f"llama_decode returned {code}")
        self._charge(plan, time.perf_counter() - started)
        self._sample(logits_rows)

    def _drop_cancelled(self) -> None:
        for sequence in list(self._active):
            if sequence.cancelled:
                self._retire(sequence, "cancelled")

    def _plan(self) -> list[tuple[_Sequence, list[int]]]:
        """This step's tokens, for the jobs `_eligible` names, least advanced first: each
        decoding sequence's next token, and prompt chunks up to `step_tokens` in all. If
        they are between two calls, the others only decode (a prompt chunk is a long step)."""
        jobs = {sequence.owner: self._job(sequence.owner) for sequence in self._active}
        now = time.monotonic()
        self._just_left = {owner: left for owner, left in self._just_left.items()
                           if now - left < BETWEEN_CALLS_SECONDS and owner not in jobs}
        eligible = self._eligible({**jobs, **{owner: self._job(owner) for owner in self._just_left}})
        runnable = [sequence for sequence in self._active if sequence.owner in eligible]
        prompt_room = self.step_tokens
        if not runnable:
            decoding = [sequence for sequence in self._active if sequence.prefilled]
            runnable, prompt_room = (decoding, 0) if decoding else (self._active, self.step_tokens)
        order = sorted(runnable, key=lambda sequence: (jobs[sequence.owner].progress, sequence.call, sequence.seq_id))
        plan = []
        for sequence in order:
            if sequence.prefilled:
                plan.append((sequence, sequence.generated[-1:]))
            elif prompt_room > 0:
                chunk = sequence.prompt[sequence.position:][:prompt_room]
                plan.append((sequence, chunk))
                prompt_room -= len(chunk)
        return plan

    @staticmethod
    def _eligible(jobs: dict[str, _JobService]) -> set[str]:
        """The cohort of the newest foreground job if there is one; else the least
        advanced jobs and those close to them."""
        foreground = [job.arrived for job in jobs.values() if job.evaluated < FOREGROUND_TOKENS]
        if foreground:
            newest = max(foreground)
            return {owner for owner, job in jobs.items() if job.arrived >= newest - COHORT_SECONDS}
        reach = 2 * min(job.progress for job in jobs.values()) + CO_SCHEDULE_TOKENS
        return {owner for owner, job in jobs.items() if job.progress <= reach}

    def _fill_batch(self, plan: list[tuple[_Sequence, list[int]]]) -> list[_Sequence]:
        """Put the step's tokens in the batch; logits for a sequence's last token where it
        draws next (decoding, or the last chunk of its prompt)."""
        batch = self._batch
        count = 0
        rows = []
        for sequence, tokens in plan:
            draws = sequence.prefilled or sequence.position + len(tokens) == len(sequence.prompt)
            for offset, token in enumerate(tokens):
                batch.token[count] = token
                batch.pos[count] = sequence.position + offset
                batch.n_seq_id[count] = 1
                batch.seq_id[count][0] = sequence.seq_id
                batch.logits[count] = draws and offset == len(tokens) - 1
                count += 1
            sequence.position += len(tokens)
            self._job(sequence.owner).evaluated += len(tokens)
            if draws:
                rows.append(sequence)
        batch.n_tokens = count
        return rows

    @staticmethod
    def _charge(plan: list[tuple[_Sequence, list[int]]], seconds: float) -> None:
        """Each sequence's share of the step's time: its share of the step's tokens."""
        total = sum(len(tokens) for _, tokens in plan)
        for sequence, tokens in plan:
            sequence.model_seconds += seconds * len(tokens) / total

    def _sample(self, rows: list[_Sequence]) -> None:
        """Each drawing sequence's next token, from its row of the step's logits (the rows
        asked for, in batch order: one ctypes call for them all)."""
        self.steps += 1
        self.peak_batch = max(self.peak_batch, len(rows))
        if not rows:
            return
        every_row = np.ctypeslib.as_array(self._ll.llama_get_logits(self._ctx), shape=(len(rows), self.n_vocab))
        for sequence, logits in zip(rows, every_row):
            sequence.peak_batch = max(sequence.peak_batch, len(rows))
            twins, sequence.twins = sequence.twins, []
            for twin in twins:
                self._start_twin(sequence, twin, logits, len(rows))
            self._accept(sequence, sequence.sampler.pick(logits))

    def _start_twin(self, leader: _Sequence, twin: _Sequence, logits: np.ndarray, batch: int) -> None:
        """A whole-stream copy of the leader's evaluated prompt (the copy is made before the
        next step), then the twin's own first draw from the same logits."""
        self._ll.llama_memory_seq_cp(self._memory, leader.seq_id, twin.seq_id, -1, -1)
        twin.position, twin.peak_batch = leader.position, batch
        self.shared_prompt_tokens += len(twin.prompt)
        self._active.append(twin)
        self._accept(twin, twin.sampler.pick(logits))

    def _accept(self, sequence: _Sequence, token: int) -> None:
        if token in self._ends:
            self._retire(sequence, "stop")
            return
        sequence.generated.append(token)
        self._job(sequence.owner).generated += 1
        sequence.pieces.append(self._pieces[token])
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
        self._active.remove(sequence)
        self._just_left[sequence.owner] = time.monotonic()
        self._free(sequence)
        self._release_twins(sequence)
        sequence.done.set()

    def _free(self, sequence: _Sequence) -> None:
        """Free its slot, keeping the cells of its evaluated prompt for a later prompt that
        begins the same way (none after a failed step: they may be incomplete)."""
        kept = min(sequence.position, len(sequence.prompt)) if sequence.error is None else 0
        if kept >= MIN_SHARED_PREFIX:
            self._ll.llama_memory_seq_rm(self._memory, sequence.seq_id, kept, -1)
            self._cached[sequence.seq_id] = sequence.prompt[:kept]
        else:
            self._ll.llama_memory_seq_rm(self._memory, sequence.seq_id, -1, -1)
        self._free_ids.append(sequence.seq_id)
        self._free_ids.sort()

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

