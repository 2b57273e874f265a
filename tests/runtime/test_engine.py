"""The model runtime on the real small models: grouping, batching, seeds, failures."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

from pressroom.plugins import EmbedTexts, GenerateImages, GenerateText
from pressroom_workers.runtime import ModelRuntime, RequestFailed
from pressroom_workers.runtime.sources import ModelNotAvailable, ModelSpec, resolve_source

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def runtime():
    return ModelRuntime()


@pytest.fixture(autouse=True)
def fresh_call_log(runtime):
    runtime.calls.clear()


def greedy(prompt: str, tokens: int = 6) -> GenerateText:
    return GenerateText(prompts=(prompt,), max_new_tokens=tokens)


def test_compatible_greedy_requests_share_one_call_and_match_unbatched(runtime):
    prompts = ["Name a colour.", "Count to three.", "Say hello.", "Name a planet in our solar system."]
    batched = runtime.execute([greedy(p) for p in prompts])
    assert [call.size for call in runtime.calls] == [4]
    singles = [runtime.execute([greedy(p)])[0] for p in prompts]
    assert [b[0].text for b in batched] == [s[0].text for s in singles]
    assert {b[0].provenance.batch_size for b in batched} == {4}
    assert len({b[0].provenance.batch_id for b in batched}) == 1


def test_text_items_of_different_budgets_share_one_call_each_within_its_own(runtime):
    results = runtime.execute([greedy("a", 3), greedy("b", 3), greedy("c", 5)])
    assert [call.size for call in runtime.calls] == [3]
    assert [r[0].new_tokens <= budget for r, budget in zip(results, (3, 3, 5))] == [True, True, True]


def test_sampled_items_are_reproducible_from_their_seed_whatever_else_is_queued(runtime):
    sampled = GenerateText(prompts=("Invent a product name.",) * 2, max_new_tokens=8, temperature=1.0, seeds=(3, 4))
    alone = runtime.execute([sampled])[0]
    with_company = runtime.execute([greedy("Other work"), sampled, greedy("More work")])[1]
    assert [o.text for o in alone] == [o.text for o in with_company]
    assert [o.seed for o in alone] == [3, 4]
    assert [call.size for call in runtime.calls] == [2, 4]  # sampled and greedy items share a call


def test_each_prompt_samples_at_its_own_temperature_in_one_call(runtime):
    request = GenerateText(prompts=("Name a colour.", "Invent a product name."), max_new_tokens=4, temperature=0.8,
                           temperatures=(0.0, 1.2), seeds=(5, 6))
    greedy_alone, sampled_alone = (runtime.execute([greedy("Name a colour.", 4)])[0][0],
                                   runtime.execute([GenerateText(prompts=("Invent a product name.",), max_new_tokens=4,
                                                                 temperature=1.2, seeds=(6,))])[0][0])
    together = runtime.execute([request])[0]
    assert [o.params["temperature"] for o in together] == [0.0, 1.2]
    assert [o.text for o in together] == [greedy_alone.text, sampled_alone.text]
    assert runtime.calls[-1].size == 2


def test_few_shot_turns_come_before_the_prompt_as_earlier_exchanges(runtime):
    from pressroom_workers.runtime.backends import TextItem

    item = TextItem("Name a fruit.", "Be brief.", None, examples=(("Name a colour.", "Blue"), ("Name a tree.", "Oak")))
    assert [m["role"] for m in item.messages()] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert item.messages()[-1]["content"] == "Name a fruit." and item.messages()[2]["content"] == "Blue"
    assert item.plain_text() == "Be brief.\n\nName a colour.\nBlue\n\nName a tree.\nOak\n\nName a fruit."
    shots = (("Name a colour.", "Blue"),)
    with_shots, without = runtime.execute([
        GenerateText(prompts=("Name a fruit.", "Name a fruit."), max_new_tokens=4, examples=(shots, ())),
    ])[0]
    assert with_shots.prompt_tokens > without.prompt_tokens  # the example turns were read
    assert with_shots.params["examples"] == [["Name a colour.", "Blue"]] and "examples" not in without.params


@pytest.mark.parametrize("kwargs, message", [
    ({"examples": ((),)}, "one tuple of examples per prompt"),
    ({"temperatures": (0.5,)}, "one temperature per prompt"),
    ({"temperatures": (0.5, 3.0)}, "from 0 to 2"),
    ({"temperature": -1.0}, "from 0 to 2"),
])
def test_temperatures_are_checked_when_the_request_is_made(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GenerateText(prompts=("a", "b"), **kwargs)


def test_provenance_names_the_weights(runtime):
    output = runtime.execute([greedy("Hi", 2)])[0][0]
    provenance = output.provenance
    assert provenance.alias == "text-default"
    assert provenance.source.endswith("smollm2-135m-instruct")
    assert provenance.revision.startswith("sha256:") and len(provenance.revision) == 7 + 64
    assert provenance.device == "cpu" and provenance.dtype == "float32"
    assert output.params["new_tokens"] == output.new_tokens <= 2


def test_an_unknown_alias_fails_its_request_only(runtime):
    results = runtime.execute([GenerateText(prompts=("x",), model="no-such-alias"), greedy("Hello", 2)])
    assert isinstance(results[0], RequestFailed) and "no-such-alias" in str(results[0])
    assert isinstance(results[1], list) and results[1][0].new_tokens >= 1


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png))).astype(int)


def test_images_batch_per_size_and_keep_per_item_seeds(runtime):
    request = GenerateImages(prompts=("a red car", "a cat"), seeds=(1, 2), width=64, height=64, steps=3)
    other_size = GenerateImages(prompts=("a dog",), seeds=(3,), width=96, height=64, steps=3)
    together = runtime.execute([request, other_size])
    assert sorted(call.size for call in runtime.calls) == [1, 2]
    alone = runtime.execute([GenerateImages(prompts=("a cat",), seeds=(2,), width=64, height=64, steps=3)])[0][0]
    # The same seed gives the same image in a batch or alone, up to float rounding on CPU.
    assert np.abs(_pixels(together[0][1].png) - _pixels(alone.png)).max() <= 1
    assert _pixels(together[1][0].png).shape == (64, 96, 3)
    assert together[0][0].provenance.placeholder is True


def test_embeddings_capture_meaning(runtime):
    vectors = torch.tensor(runtime.execute([EmbedTexts(texts=("a small cat", "a kitten", "a tax form"))])[0].vectors)
    similarity = torch.nn.functional.cosine_similarity(vectors[0:1], vectors[1:], dim=1)
    assert vectors.shape == (3, 384)
    assert similarity[0] > similarity[1] + 0.2


class MemoryLimitedBackend:
    """Stands in for a GPU that runs out of memory above `limit` items (no CPU can).
    The work itself is done by the real text backend."""

    concurrent = False

    def __init__(self, real, limit: int) -> None:
        self.real, self.limit, self.sizes = real, limit, []
        self.resolved, self.device, self.dtype = real.resolved, real.device, real.dtype
        self.engine, self.endpoint, self.model_id = real.engine, real.endpoint, real.model_id

    def run(self, items, params, should_stop=lambda: False):
        self.sizes.append(len(items))
        if len(items) > self.limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated limit)")
        return self.real.run(items, params, should_stop)


def test_out_of_memory_halves_the_batch_and_still_answers_everything(runtime):
    real_model = runtime.model("text-default")
    limited = MemoryLimitedBackend(real_model.backend, limit=2)
    oom_runtime = ModelRuntime(loader=lambda alias: type(real_model)(real_model.spec, limited, 0.0))
    prompts = ["One.", "Two.", "Three.", "Four."]
    results = oom_runtime.execute([greedy(p, 3) for p in prompts])
    assert limited.sizes == [4, 2, 2]
    assert [r[0].text for r in results] == [r[0].text for r in runtime.execute([greedy(p, 3) for p in prompts])]


def test_out_of_memory_with_one_item_is_a_transient_failure(runtime):
    real_model = runtime.model("text-default")
    limited = MemoryLimitedBackend(real_model.backend, limit=0)
    oom_runtime = ModelRuntime(loader=lambda alias: type(real_model)(real_model.spec, limited, 0.0))
    (result,) = oom_runtime.execute([greedy("x", 2)])
    assert isinstance(result, RequestFailed) and result.transient
    assert "out of device memory" in str(result)


def test_hub_id_without_network_gives_an_actionable_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    spec = ModelSpec(alias="remote", task="text-generation", source="example-org/not-cached-model")
    with pytest.raises(ModelNotAvailable, match="prepare_models"):
        resolve_source(spec)
