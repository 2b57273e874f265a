"""Concurrent screenings in one process share the encoder's forward passes (group commit),
on the real offline ONNX encoder: a thread that needs sentences while another encodes
queues them, and the next encode takes them all. Every thread still gets exactly the
vectors its sentences have alone, and a failed encode fails only the thread that ran it."""
import threading
import time

import numpy as np
import pytest

from pressroom.safety.semantic import _EmbeddingCache, current_sentence_encoder

SENTENCES = [f"Write a tagline for shop number {n}." for n in range(6)]


class GatedEncoder:
    """The real encoder, recording each call's batch; the first call waits for `gate`
    (so the other threads queue behind it) and, when `fail_first`, then raises."""

    def __init__(self, *, fail_first: bool = False) -> None:
        self.real = current_sentence_encoder()
        self.name = self.real.name
        self.batches: list[list[str]] = []
        self.gate = threading.Event()
        self.fail_first = fail_first
        self.lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        with self.lock:
            self.batches.append(list(texts))
            first = len(self.batches) == 1
        if first:
            assert self.gate.wait(30)
            if self.fail_first:
                raise RuntimeError("the model process was killed")
        return self.real.encode(texts)


def embed_concurrently(cache: _EmbeddingCache, encoder: GatedEncoder, sentences: list[str]) -> dict:
    outcomes: dict = {}

    def run(text: str) -> None:
        try:
            outcomes[text] = cache.embed(encoder, [text])[0]
        except RuntimeError as error:
            outcomes[text] = error

    first = threading.Thread(target=run, args=(sentences[0],))
    first.start()
    while not encoder.batches:  # the first thread is inside the (gated) encode
        time.sleep(0.005)
    others = [threading.Thread(target=run, args=(text,)) for text in sentences[1:]]
    for thread in others:
        thread.start()
    deadline = time.monotonic() + 10
    while len(cache.queued) < len(others) and time.monotonic() < deadline:
        time.sleep(0.005)
    encoder.gate.set()
    for thread in [first, *others]:
        thread.join(30)
    return outcomes


def test_threads_that_wait_for_an_encode_share_the_next_one_and_get_their_own_vectors():
    encoder = GatedEncoder()
    outcomes = embed_concurrently(_EmbeddingCache(), encoder, SENTENCES)
    # One call for the first sentence, one for the five that queued behind it.
    assert [len(batch) for batch in encoder.batches] == [1, 5]
    alone = encoder.real.encode(SENTENCES)
    for index, text in enumerate(SENTENCES):
        assert np.abs(outcomes[text] - alone[index]).max() < 1e-5


def test_a_failed_encode_fails_its_own_thread_and_the_queued_ones_are_encoded_again():
    encoder = GatedEncoder(fail_first=True)
    outcomes = embed_concurrently(_EmbeddingCache(), encoder, SENTENCES)
    assert isinstance(outcomes[SENTENCES[0]], RuntimeError)
    alone = encoder.real.encode(SENTENCES[1:])
    for index, text in enumerate(SENTENCES[1:]):
        assert np.abs(outcomes[text] - alone[index]).max() < 1e-5


@pytest.mark.parametrize("size", [2, 8192])
def test_a_call_with_more_new_sentences_than_the_cache_holds_still_gets_them_all(size):
    cache = _EmbeddingCache(size=size)
    texts = SENTENCES + SENTENCES[:2]  # repeats too
    vectors = cache.embed(current_sentence_encoder(), texts)
    assert vectors.shape == (len(texts), current_sentence_encoder().dimensions)
    assert np.abs(vectors[-2:] - vectors[:2]).max() == 0
    assert len(cache.items) <= size
