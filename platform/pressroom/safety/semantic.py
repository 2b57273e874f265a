"""Sentence embeddings for the semantic checks (harm categories, banned topics).

The encoder is an ONNX export of all-MiniLM-L6-v2 run by onnxruntime with the
`tokenizers` library: web processes screen job inputs with it without importing torch,
and workers screen artifacts with the same model, so both give the same verdicts.
Embeddings are mean-pooled and L2-normalised, as sentence-transformers does for this
model, so a dot product is the cosine similarity.
"""
from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

import numpy as np

from pressroom.conf import pressroom_settings
from pressroom.safety.checks.base import MODEL_LOADING

# A sentence: up to its end mark or a line break. Shared by the semantic checks.
SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
MAX_TOKENS = 128
BATCH_SIZE = 64


class SentenceEncoder(Protocol):
    name: str

    def encode(self, texts: list[str]) -> np.ndarray: ...


class EncoderNotAvailable(RuntimeError):
    """The configured ONNX encoder is not on disk (run `manage.py prepare_models`)."""


class OnnxSentenceEncoder:
    def __init__(self, folder: Path, *, threads: int = 1) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        model, tokenizer_file = folder / "model.onnx", folder / "tokenizer.json"
        if not model.exists() or not tokenizer_file.exists():
            raise EncoderNotAvailable(
                f"No ONNX sentence encoder in {folder} (model.onnx and tokenizer.json); run `manage.py prepare_models`."
            )
        self.model_path = model
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        # One thread, no spin-waiting: screening shares its cores with request threads (web)
        # or the model (workers); a spinning thread pool burns CPU they need (measured:
        # API submissions 14/s with onnxruntime's defaults).
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.name = f"{_model_name(folder)} (onnxruntime)"

    def encode(self, texts: list[str]) -> np.ndarray:
        """Normalised embeddings, in order. Texts are sorted by length into batches, so a
        batch pads to similar lengths."""
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), BATCH_SIZE):
            chunk = order[start : start + BATCH_SIZE]
            out[chunk] = self._encode_batch([texts[i] for i in chunk])
        return out

    @property
    def dimensions(self) -> int:
        return int(self.session.get_outputs()[0].shape[-1])

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
        mask = feed["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def _model_name(folder: Path) -> str:
    source = folder.parent if folder.name == "onnx" else folder
    return source.name


def encoder_folder() -> Path:
    folder = Path(pressroom_settings.SEMANTIC_ENCODER)
    return folder if folder.is_absolute() else pressroom_settings.model_root / folder


_encoder: SentenceEncoder | None = None


def install_sentence_encoder(encoder: SentenceEncoder | None) -> None:
    global _encoder
    with MODEL_LOADING:
        _encoder = encoder
        _cache.clear()


def current_sentence_encoder() -> SentenceEncoder:
    """Loaded once per process, on first use (a web process that never screens text never loads it)."""
    global _encoder
    if _encoder is not None:  # every screening asks: no lock once it is loaded
        return _encoder
    with MODEL_LOADING:
        if _encoder is None:
            _encoder = OnnxSentenceEncoder(encoder_folder())
        return _encoder


class _EmbeddingCache:
    """Recent sentence embeddings, so the harm and topic checks encode a sentence once
    per screening and repeated phrases (topics, boilerplate) are not encoded again.

    Encoding is group-committed: while one thread encodes, the sentences other threads
    need are queued, and the next thread to encode takes all of them in one batched call.
    Concurrent job submissions in one web process then share a forward pass (measured on
    two cores: 9.9 ms a sentence alone, 6.9 in twos, 6.6 in fours) instead of waiting
    for each other's. A failed encode fails the thread that ran it; the others queue
    their sentences again and one of them tries once more."""

    def __init__(self, size: int = 8192) -> None:
        self.size = size
        self.items: OrderedDict[str, np.ndarray] = OrderedDict()
        self.lock = threading.Condition()
        self.queued: dict[str, None] = {}  # waiting for the next encode, in arrival order
        self.encoding: set[str] = set()  # in the encode running now (empty: none runs)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()

    def embed(self, encoder: SentenceEncoder, texts: list[str]) -> np.ndarray:
        found: dict[str, np.ndarray] = {}
        with self.lock:
            while True:
                found.update((t, self.items[t]) for t in texts if t not in found and t in self.items)
                missing = [t for t in dict.fromkeys(texts) if t not in found]
                if not missing:
                    break
                self.queued.update(dict.fromkeys(t for t in missing if t not in self.encoding))
                if self.encoding:
                    self.lock.wait()
                else:
                    encoded = self._encode_queued(encoder)
                    found.update((t, encoded[t]) for t in missing if t in encoded)
            for text in found:
                if text in self.items:
                    self.items.move_to_end(text)
        return np.stack([found[t] for t in texts]) if texts else np.zeros((0, 0), dtype=np.float32)

    def _encode_queued(self, encoder: SentenceEncoder) -> dict[str, np.ndarray]:
        """Encode everything queued, with the lock released for the model call; the new
        vectors are kept (the oldest beyond `size` dropped) and returned."""
        batch, self.queued = list(self.queued), {}
        self.encoding = set(batch)
        self.lock.release()
        try:
            vectors = encoder.encode(batch)
        finally:
            self.lock.acquire()
            self.encoding = set()
            self.lock.notify_all()
        encoded = dict(zip(batch, vectors))
        self.items.update(encoded)
        for text in batch:
            self.items.move_to_end(text)
        while len(self.items) > self.size:
            self.items.popitem(last=False)
        return encoded


_cache = _EmbeddingCache()


def embed(texts: list[str], encoder: SentenceEncoder | None = None) -> np.ndarray:
    return _cache.embed(encoder or current_sentence_encoder(), texts)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Each sentence's (start, end) without surrounding blanks."""
    spans = []
    for match in SENTENCE.finditer(text):
        piece = match.group()
        if piece.strip():
            start = match.start() + len(piece) - len(piece.lstrip())
            spans.append((start, match.start() + len(piece.rstrip())))
    return spans


# Within a word that has letters, digits and symbols standing in for letters ("v3rm1n").
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_WORD = re.compile(r"\S+")
_JOINERS = re.compile(r"_+")
CLAUSE = re.compile(r"[^,;\u2013\u2014]+")
# Only long run-on sentences are split: there one clause is diluted in the sentence's
# average embedding; shorter sentences are scored whole (their clauses alone mislead).
SENTENCE_MIN_WORDS_TO_SPLIT = 25
CLAUSE_MIN_WORDS = 4


def semantic_text(text: str) -> str:
    """What the encoder reads: look-alike letters folded, words joined with "_" split
    again, and leetspeak inside words undone -- so "1mm1grants_are_v3rm1n" reads
    like the sentence it stands for. Numbers ("30%", "2024") are left alone."""
    from pressroom.safety.checks.normalise import normalise

    folded = _JOINERS.sub(" ", normalise(text))
    return _WORD.sub(lambda m: _unleet(m.group()), folded)


def _unleet(word: str) -> str:
    """Only inside a word ("v3rm1n"), never its edges ("wow!", "@shop", "2024")."""
    core = word.strip(".,;:!?'\"()[]{}@#")
    if not core or not any(c.isalpha() for c in core) or core.isalpha():
        return word
    start = word.index(core)
    return word[:start] + core.translate(_LEET) + word[start + len(core):]


def clause_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The clauses of a long sentence (split at commas, semicolons and dashes), so
    one harmful clause at the end of a long, friendly run-on sentence is scored on its own."""
    sentence = text[start:end]
    if len(sentence.split()) < SENTENCE_MIN_WORDS_TO_SPLIT:
        return []
    spans = []
    for match in CLAUSE.finditer(sentence):
        piece = match.group()
        if len(piece.split()) >= CLAUSE_MIN_WORDS and match.end() - match.start() < len(sentence):
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + match.start() + lead, start + match.start() + len(piece.rstrip())))
    return spans


def fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:12]
