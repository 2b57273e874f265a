"""The design plugin's own tests, on the SDK's fake runtime."""
import io

import pytest
from PIL import Image

from pressroom.plugins.testing import FakeRuntime, UseCaseConformance, make_context, run_use_case
from pressroom_design.compose import compose_banner, contrast
from pressroom_design.prompts import PRESETS, build_prompt, generation_size
from pressroom_design.usecases.banner import Banner, BannerInput
from pressroom_design.usecases.concept import ConceptImage

BANNER = {"product": "Trail shoes", "headline": "Run further this spring", "cta": "Shop now",
          "palette": ["#1F3A5F", "#F2C14E"], "preset": "leaderboard"}


class TestConceptConformance(UseCaseConformance):
    use_case = ConceptImage
    valid_inputs = [{"product": "Wool scarf", "style": "photo", "palette": ["#112233"], "variants": 2}]
    invalid_inputs = [({"product": "x", "palette": ["blue"]}, "palette"), ({"product": "x", "preset": "poster"}, "preset"),
                      ({"product": "x", "style": "cubism"}, "style"), ({"product": "x", "variants": 5}, "variants")]


class TestBannerConformance(UseCaseConformance):
    use_case = Banner
    valid_inputs = [BANNER, {**BANNER, "preset": "wide_skyscraper", "variants": 2}]
    invalid_inputs = [({**BANNER, "headline": ""}, "headline"), ({**BANNER, "cta": "x" * 30}, "cta")]


def _image(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def test_prompt_names_style_product_and_palette_in_words():
    prompt, negative = build_prompt(ConceptImage.Input.model_validate({"product": "Wool scarf", "style": "watercolour", "palette": ["#1F3A5F", "#F2C14E"]}))
    assert prompt.startswith("watercolour of Wool scarf") and "navy" in prompt and "yellow" in prompt
    assert "text" in negative


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_generation_sizes_are_multiples_of_8_within_the_limit(preset):
    width, height = generation_size(preset, 512)
    assert width % 8 == 0 and height % 8 == 0 and max(width, height) <= 512


def test_variants_record_their_seeds_and_final_size():
    drafts = run_use_case(ConceptImage, {"product": "Scarf", "variants": 3, "seed": 40, "preset": "medium_rectangle"})
    assert [d.seed for d in drafts] == [40, 41, 42]
    assert all(_image(d.png).size == (300, 250) for d in drafts)


@pytest.mark.parametrize("preset", ["leaderboard", "medium_rectangle", "wide_skyscraper", "instagram_story"])
def test_banner_is_composed_at_the_preset_size_with_legible_text(preset):
    runtime = FakeRuntime()
    (draft,) = run_use_case(Banner, {**BANNER, "preset": preset}, runtime=runtime, ctx=make_context(settings={"max_generation_side": 256}))
    assert _image(draft.png).size == PRESETS[preset]
    assert "no text" in runtime.requests[0].prompts[0]
    assert draft.data["headline_contrast"] >= 4.5  # WCAG AA for text
    assert " ".join(draft.data["headline_lines"]) == BANNER["headline"]


def test_composition_draws_in_the_brand_colours():
    plain = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 200, 200)).save(plain, format="PNG")
    png, layout = compose_banner(plain.getvalue(), (300, 250), "Hello", "Buy", [(31, 58, 95), (242, 193, 78)])
    colours = {c for _, c in _image(png).getcolors(maxcolors=100000)}
    assert layout["button_colour"] == (242, 193, 78) and (242, 193, 78) in colours
    assert contrast((255, 255, 255), (0, 0, 0)) == pytest.approx(21.0)


def test_banner_input_normalises_hex_colours():
    assert BannerInput.model_validate({**BANNER, "palette": ["1f3a5f"]}).palette == ["#1F3A5F"]
