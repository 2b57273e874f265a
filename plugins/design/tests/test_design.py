"""The design plugin's own tests, on the SDK's fake runtime."""
import io

import pytest
from PIL import Image

from pressroom.plugins.testing import FakeRuntime, UseCaseConformance, make_context, run_use_case
from pressroom_design.compose import FINE_PRINT_MIN_SIZE, FinePrintTooLong, compose_banner, contrast
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


# -- fine print: the workspace's required disclaimers, typeset along the bottom -------------
BRAND_PALETTE = [(31, 58, 95), (242, 193, 78)]
LONG_DISCLAIMER = "Terms apply. 18+ only. Offer ends 31 May 2027, while stocks last, see site for details."


def _background() -> bytes:
    plain = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 200, 200)).save(plain, format="PNG")
    return plain.getvalue()


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_fine_print_has_its_own_band_below_the_headline_and_cta(preset):
    size = PRESETS[preset]
    png, layout = compose_banner(_background(), size, "Run further this spring", "Shop now", BRAND_PALETTE, "Terms apply.")
    assert layout["fine_print"] == "Terms apply." and layout["fine_print_lines"] == ["Terms apply."]
    assert layout["fine_print_font_size"] >= FINE_PRINT_MIN_SIZE and not layout["fine_print_fallback"]
    headline, cta, band = layout["headline_box"], layout["cta_box"], layout["fine_print_box"]
    assert band == [0, size[1] - band[3] + band[1], size[0], size[1]]  # the full width, at the bottom
    assert not _overlap(headline, band) and not _overlap(cta, band) and not _overlap(headline, cta)
    assert layout["fine_print_contrast"] >= 4.5  # WCAG AA, like the headline
    # The band is drawn: its corner is the darkest brand colour, solid.
    assert _image(png).getpixel((0, size[1] - 1)) == (31, 58, 95)


def test_fine_print_is_legible_whatever_the_palette():
    mid_grey = [(119, 119, 119)]  # white on it is 4.48:1, under AA: black is chosen
    _, layout = compose_banner(_background(), (300, 250), "Hello", "Buy", mid_grey, "Terms apply.")
    assert layout["fine_print_colour"] == (0, 0, 0) and layout["fine_print_contrast"] >= 4.5


def test_long_fine_print_wraps_to_two_lines_within_the_width():
    _, layout = compose_banner(_background(), (300, 250), "Hello", "Buy", BRAND_PALETTE, LONG_DISCLAIMER)
    assert len(layout["fine_print_lines"]) == 2 and " ".join(layout["fine_print_lines"]) == LONG_DISCLAIMER
    assert layout["fine_print_font_size"] >= FINE_PRINT_MIN_SIZE


def test_a_narrow_banner_takes_more_lines_at_the_minimum_size_and_says_so():
    _, layout = compose_banner(_background(), PRESETS["wide_skyscraper"], "Hello", "Buy", BRAND_PALETTE, LONG_DISCLAIMER)
    assert layout["fine_print_fallback"] and len(layout["fine_print_lines"]) > 2
    assert layout["fine_print_font_size"] == FINE_PRINT_MIN_SIZE and " ".join(layout["fine_print_lines"]) == LONG_DISCLAIMER
    assert not _overlap(layout["cta_box"], layout["fine_print_box"])


def test_fine_print_that_cannot_be_legible_is_an_error_not_a_silent_drop():
    with pytest.raises(FinePrintTooLong, match="does not fit legibly on a 128×128 banner"):
        compose_banner(_background(), PRESETS["preview"], "Hello", "Buy", BRAND_PALETTE, LONG_DISCLAIMER)


def test_without_fine_print_the_layout_has_no_band():
    _, layout = compose_banner(_background(), (300, 250), "Hello", "Buy", BRAND_PALETTE)
    assert "fine_print" not in layout and layout["cta_box"] == [50, 180, 250, 215]


def test_banner_typesets_the_required_disclaimer_and_says_what_it_added():
    ctx = make_context(required_disclaimers=("Terms apply.", "18+ only."), settings={"max_generation_side": 256})
    drafts = run_use_case(Banner, {**BANNER, "variants": 2}, ctx=ctx)
    for draft in drafts:
        assert draft.params["disclaimers_added"] == ["Terms apply.", "18+ only."] == draft.data["disclaimers_added"]
        assert draft.data["fine_print"] == "Terms apply. 18+ only."
        assert draft.text == "Run further this spring\nShop now\nTerms apply. 18+ only."


def test_banner_does_not_repeat_a_disclaimer_its_headline_already_says():
    ctx = make_context(required_disclaimers=("Terms apply.",))
    (draft,) = run_use_case(Banner, {**BANNER, "headline": "Half price, terms apply."}, ctx=ctx)
    assert "fine_print" not in draft.data and "disclaimers_added" not in draft.params
    assert draft.text == "Half price, terms apply.\nShop now"


def test_banner_without_required_disclaimers_carries_its_copy_only():
    (draft,) = run_use_case(Banner, BANNER)
    assert draft.text == "Run further this spring\nShop now" and "disclaimers_added" not in draft.data


def test_banner_whose_disclaimer_cannot_fit_fails_before_generating():
    runtime = FakeRuntime()
    with pytest.raises(FinePrintTooLong, match="choose a larger preset"):
        run_use_case(Banner, {**BANNER, "preset": "preview"}, runtime=runtime, ctx=make_context(required_disclaimers=(LONG_DISCLAIMER,)))
    assert runtime.requests == []  # no model time spent on a banner that could not ship
