"""Few-shot examples kept as versioned prompt templates (pressroom.plugins.few_shot)."""
import pytest

from pressroom.plugins import ExamplesInvalid, PromptTemplate, few_shot, parse_examples

PROMPT = PromptTemplate(key="shop.headline", body="Product: {product}. {offer}\nWrite a headline of {limit} characters.")


def test_each_block_becomes_one_exchange_rendered_through_the_field_prompt():
    examples = PromptTemplate(key="shop.headline.examples", body=(
        "product: Harbour mug\noffer: Offer: 10% off.\n=> Mugs Made to Last\n\n\n"
        "product: Arc lamp\n=>   Warm Light, Brass Finish  \n"))
    turns = few_shot(PROMPT, examples, offer="", limit="30")
    assert turns == (
        ("Product: Harbour mug. Offer: 10% off.\nWrite a headline of 30 characters.", "Mugs Made to Last"),
        ("Product: Arc lamp. \nWrite a headline of 30 characters.", "Warm Light, Brass Finish"),
    )


def test_a_value_may_hold_colons_and_an_empty_body_means_no_examples():
    assert parse_examples("facts: - material: wool\n=> A wool scarf.") == [({"facts": "- material: wool"}, "A wool scarf.")]
    assert few_shot(PROMPT, PromptTemplate(key="k", body="  \n")) == ()


@pytest.mark.parametrize("body, message", [
    ("product: Mug\n", "Example 1 has no '=> answer' line"),
    ("product: Mug\n=> Mugs\n\nproduct: Lamp\n=>", "Example 2 has no '=> answer' line"),
    ("product: Mug\nthis line is neither\n=> Mugs", "Example 1: 'this line is neither'"),
])
def test_an_unreadable_block_is_named_with_its_line(body, message):
    with pytest.raises(ExamplesInvalid, match=message):
        parse_examples(body)
