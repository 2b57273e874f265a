"""The SDK's rule for writing a workspace's required disclaimers into a field."""
import pytest

from pressroom.plugins import DisclaimerTooLong, fit_disclaimers
from pressroom.plugins.disclaimers import missing_disclaimers, shorten_at_boundary
from pressroom.safety.checks.base import Subject
from pressroom.safety.checks.brand import BrandCheck
from pressroom.safety.models import SafetyPolicy


def brand_passes(text: str, disclaimers: list[str]) -> bool:
    policy = SafetyPolicy(required_disclaimers={"marketing.ad_copy": disclaimers})
    (result,) = BrandCheck().run([Subject(text=text, use_case="marketing.ad_copy", label="artifact")], policy)
    return result.decision == "pass"


def test_appends_a_disclaimer_that_fits():
    fitted = fit_disclaimers("Light shoes that keep you dry.", ["Terms apply."], 90)
    assert fitted.text == "Light shoes that keep you dry. Terms apply."
    assert fitted.added == ["Terms apply."] and not fitted.shortened
    assert brand_passes(fitted.text, ["Terms apply."])


def test_shortens_the_body_at_a_sentence_boundary_when_there_is_one():
    body = "Light shoes that keep you dry. Grip for every trail you run this winter"
    fitted = fit_disclaimers(body, ["Terms apply."], 60)
    assert fitted.text == "Light shoes that keep you dry. Terms apply."
    assert fitted.shortened and len(fitted.text) <= 60


def test_shortens_at_a_word_boundary_never_mid_word():
    body = "An extraordinarily lightweight waterproof trail running shoe for every adventure"
    fitted = fit_disclaimers(body, ["Terms apply."], 50)
    assert len(fitted.text) <= 50 and fitted.text.endswith(" Terms apply.")
    kept = fitted.text.removesuffix(" Terms apply.")
    assert body.startswith(kept) and body[len(kept)] == " "  # cut between two words


def test_several_disclaimers_are_all_appended_in_order():
    fitted = fit_disclaimers("Big savings on coats.", ["Terms apply.", "18+ only."], 90)
    assert fitted.text == "Big savings on coats. Terms apply. 18+ only."
    assert fitted.added == ["Terms apply.", "18+ only."]
    assert brand_passes(fitted.text, ["Terms apply.", "18+ only."])


def test_a_disclaimer_already_present_is_not_duplicated():
    # Compared the way the brand check compares: case and accents do not matter.
    fitted = fit_disclaimers("Big savings. TERMS APPLY.", ["Terms apply.", "18+ only."], 90)
    assert fitted.text == "Big savings. TERMS APPLY. 18+ only." and fitted.added == ["18+ only."]
    assert fit_disclaimers("Big savings. Terms apply.", ["Terms apply."], 25).text == "Big savings. Terms apply."
    assert missing_disclaimers("x", ["Terms apply.", "Terms apply.", " "]) == ["Terms apply."]


def test_a_field_too_short_for_body_and_disclaimer_still_holds_the_disclaimer():
    fitted = fit_disclaimers("Waterproofing", ["Terms apply."], 15)
    assert fitted.text == "Terms apply." and fitted.shortened and fitted.added == ["Terms apply."]
    assert brand_passes(fitted.text, ["Terms apply."])


def test_a_disclaimer_longer_than_the_limit_is_a_clear_error():
    with pytest.raises(DisclaimerTooLong, match=r"'Terms and conditions apply.*' \(\d+ characters\).*15 characters"):
        fit_disclaimers("Shop now", ["Terms and conditions apply, see site."], 15)


def test_no_limit_and_no_disclaimers():
    assert fit_disclaimers("Hello.", [], 3).text == "Hello."
    assert fit_disclaimers("Hello.", ["Terms apply."]).text == "Hello. Terms apply."
    assert fit_disclaimers("", ["Terms apply."], 20).text == "Terms apply."


def test_shorten_at_boundary():
    assert shorten_at_boundary("One two three", 20) == "One two three"
    assert shorten_at_boundary("One two three", 9) == "One two"
    assert shorten_at_boundary("One. Two three", 12) == "One."
    assert shorten_at_boundary("Unbreakable", 5) == ""
