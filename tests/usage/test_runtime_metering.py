"""The real runtime hands each output its call's measured time and its prompt's tokens, so
the ledger's shares add up to the calls' time."""
import pytest
from django.test import override_settings

from pressroom.plugins import EmbedTexts, GenerateText
from pressroom.usage.metering import usage_of_result
from pressroom_workers.runtime import ModelRuntime
from pressroom_workers.runtime.backends import TextItem

pytestmark = pytest.mark.models


def text_engine(engine: str):
    return override_settings(PRESSROOM={"MODELS": {"text-default": {
        "task": "text-generation", "source": "smollm2-135m-instruct", "engine": engine}}})


@text_engine("transformers")
def test_outputs_share_their_batched_calls_time_and_count_their_prompt_tokens():
    runtime = ModelRuntime()
    prompts = ["Name a colour.", "Say hello to the whole team, please.", "Name a fruit."]
    requests = [GenerateText(prompts=(p,), max_new_tokens=3) for p in prompts] + [EmbedTexts(texts=("tea", "coffee"))]
    results = runtime.execute(requests)
    text_call, embed_call = sorted(runtime.calls, key=lambda call: call.alias != "text-default")
    assert (text_call.size, embed_call.size) == (3, 2)

    usages = [usage_of_result(result) for result in results]
    assert sum(u.model_seconds for u in usages[:3]) == pytest.approx(text_call.seconds)
    assert usages[3].model_seconds == pytest.approx(embed_call.seconds)
    for output, usage in zip((r[0] for r in results[:3]), usages):
        assert output.provenance.call_seconds == text_call.seconds and output.provenance.batch_size == 3
        assert usage.model_seconds == pytest.approx(text_call.seconds / 3)
        assert usage.output_tokens == output.new_tokens

    backend = runtime.model("text-default").backend
    for prompt, usage in zip(prompts, usages):
        rendered = backend._render(TextItem(prompt, None, None))
        # Padding in the shared call is not counted: each prompt counts its own tokens.
        assert usage.input_tokens == len(backend.tokenizer(rendered, add_special_tokens=False)["input_ids"])
    assert usages[0].input_tokens < usages[1].input_tokens


@text_engine("llama.cpp")
def test_continuous_batching_measures_each_outputs_own_share_and_prompt_tokens():
    runtime = ModelRuntime()
    prompts = ["Name a colour.", "Say hello to the whole team, please.", "Name a fruit."]
    results = runtime.execute([GenerateText(prompts=(p,), max_new_tokens=3) for p in prompts])
    backend = runtime.model("text-default").backend
    for prompt, (output,) in zip(prompts, results):
        usage = usage_of_result([output])
        # Its own share of the steps it was decoded in, within its call's wall time.
        assert 0 < usage.model_seconds == output.provenance.model_seconds <= output.provenance.call_seconds
        assert usage.output_tokens == output.new_tokens
        assert usage.input_tokens == len(backend.tokenize(backend._render(TextItem(prompt, None, None))))
