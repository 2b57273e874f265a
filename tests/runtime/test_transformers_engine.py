"""The transformers engine on the shipped SmolLM2 folder: one batched generate serves items
of mixed temperatures, top_p, budgets, seeds and stops; each row samples from its own
seeded generator (the RowSampler rule) and ends on its own."""
import numpy as np
import pytest
import torch

from pressroom_workers.runtime.backends import TextGenerationBackend, TextItem, _RowEnds, _RowPicker
from pressroom_workers.runtime.sampling import RowSampler
from pressroom_workers.runtime.sources import ModelSpec

pytestmark = pytest.mark.models

SYSTEM = "You are a senior marketing copywriter."


@pytest.fixture(scope="module")
def backend():
    # Built directly: on CPU, "auto" would pick llama.cpp for the folder's GGUF file.
    spec = ModelSpec(alias="text-transformers", task="text-generation", source="smollm2-135m-instruct",
                     engine="transformers")
    return TextGenerationBackend.from_spec(spec, torch.device("cpu"), torch.float32)


def headline(seed: int, tokens: int = 24) -> TextItem:
    return TextItem("Write one ad headline for TrailRunner X2 trail shoes.", SYSTEM, seed,
                    max_new_tokens=tokens, temperature=0.8, top_p=0.95)


def mixed_batch(target: TextItem) -> list[TextItem]:
    """Seven others around the target: other prompts and seeds, some greedy, other budgets."""
    others = [
        TextItem(f"Write a short ad text for product number {i}.", SYSTEM if i % 2 else None, 100 + i,
                 max_new_tokens=6 + 3 * i, temperature=0.0 if i % 3 == 0 else 0.7 + 0.1 * i,
                 top_p=1.0 if i % 2 else 0.9, stop=(".",) if i == 4 else ())
        for i in range(7)
    ]
    return others[:3] + [target] + others[3:]


def test_a_seeded_sample_is_the_same_alone_and_inside_a_mixed_batch(backend):
    alone = backend.run([headline(7)], {})[0]
    together = backend.run(mixed_batch(headline(7)), {})
    assert len(together) == 8
    assert together[3] == alone
    # A sampled row with the whole vocabulary as nucleus (top_p 1) is as independent.
    other = mixed_batch(headline(7))[6]
    assert other.temperature > 0 and other.top_p == 1.0
    assert backend.run([other], {})[0] == together[6]


def test_different_seeds_draw_different_text_and_equal_seeds_the_same(backend):
    results = backend.run([headline(seed, 16) for seed in (1, 2, 3, 4, 1)], {})
    texts = [result.text for result in results]
    assert len(set(texts[:4])) > 1
    assert texts[4] == texts[0]


def test_budgets_and_stop_strings_end_each_row_on_its_own(backend):
    count = TextItem("List the numbers from 1 to 100, separated by commas.", None, None, max_new_tokens=24)
    (full,) = backend.run([count], {})
    assert (full.new_tokens, full.finish_reason) == (24, "length")
    # Stop at a piece of the greedy text that starts after its first few characters.
    stop = full.text[len(full.text) // 2 : len(full.text) // 2 + 3]
    expected = full.text[: full.text.find(stop)].strip()
    short, stopped, never, sampled = backend.run([
        TextItem(count.prompt, None, None, max_new_tokens=5),
        TextItem(count.prompt, None, None, max_new_tokens=24, stop=("no such text", stop)),
        TextItem(count.prompt, None, None, max_new_tokens=24, stop=("no such text",)),
        headline(5, tokens=9),
    ], {})
    assert (short.new_tokens, short.finish_reason) == (5, "length")
    assert full.text.startswith(short.text)
    assert stopped.finish_reason == "stop" and stopped.text == expected
    assert stop not in stopped.text and stopped.new_tokens < 24
    assert never == full
    assert sampled.new_tokens <= 9
    assert sampled.finish_reason == ("length" if sampled.new_tokens == 9 else "stop")
    assert {short.prompt_tokens, stopped.prompt_tokens} == {full.prompt_tokens}  # padding is not prompt


def test_asking_to_stop_abandons_the_call(backend):
    results = backend.run([headline(1), headline(2, 40)], {}, should_stop=lambda: True)
    assert [result.new_tokens for result in results] == [1, 1]


class _OpenRows:
    def open_rows(self):
        return [0, 1, 2, 3, 4]


@pytest.mark.parametrize("spread", [2.0, 8.0])
def test_row_picker_picks_as_row_sampler_does(spread):
    """The vectorised picker and RowSampler agree token for token on the same logits, for
    greedy rows, narrow nuclei, and flat ones that reach past the candidate tokens."""
    settings = [(None, 0.0, 1.0), (1, 0.8, 0.95), (2, 1.0, 1.0), (3, 1.3, 0.5), (4, 0.7, 0.999)]
    items = [TextItem("x", None, seed, temperature=t, top_p=p) for seed, t, p in settings]
    picker = _RowPicker(items, _OpenRows(), pad_id=0)
    references = [RowSampler(seed, t, p) for seed, t, p in settings]
    logits = np.random.default_rng(0).standard_normal((30, len(items), 49152)).astype(np.float32) * spread
    for step in logits:
        forced = picker(torch.zeros((len(items), 1), dtype=torch.long), torch.from_numpy(step.copy()))
        assert forced.argmax(dim=1).tolist() == [sampler.pick(row) for sampler, row in zip(references, step)]
        assert torch.isinf(forced).sum().item() == len(items) * (49152 - 1)


def test_row_ends_record_where_and_why_each_row_ended():
    ends = _RowEnds([TextItem("x", None, None, max_new_tokens=2), TextItem("x", None, None, max_new_tokens=9,
                                                                           stop=("b",))],
                    prompt_length=1, eos_ids={0}, decode=lambda ids: "".join("ab"[i - 1] for i in ids if i))
    assert ends(torch.tensor([[5, 1], [5, 1]]), None).tolist() == [False, False]
    assert ends(torch.tensor([[5, 1, 1], [5, 1, 2]]), None).tolist() == [True, True]
    assert ends.ends == [(2, "length"), (2, "stop")]
