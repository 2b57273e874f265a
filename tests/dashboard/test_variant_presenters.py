"""What a variant card says it is for, and the limits it uses: from the use case's data."""
from pressroom.dashboard.presenters import limits_used, variant_label


def test_ad_copy_card_names_channel_and_variant_letter():
    assert variant_label({"channel": "search", "variant": 0}, 0) == "Search · Variant A"
    assert variant_label({"channel": "display", "variant": 1}, 5) == "Display · Variant B"


def test_social_card_names_platform_as_written_by_the_platform():
    assert variant_label({"platform": "instagram", "variant": 1}, 3) == "Instagram · Variant B"
    assert variant_label({"platform": "linkedin", "variant": 0}, 0) == "LinkedIn · Variant A"


def test_email_card_names_its_ab_label():
    assert variant_label({"ab_label": "B"}, 1) == "Subject A/B: B"


def test_unknown_data_falls_back_to_variant_number():
    assert variant_label({}, 2) == "Variant 3"
    assert variant_label({"name": "Socks", "limits": {"description": 200}}, 0) == "Variant 1"


def test_limits_used_per_field():
    data = {"headline": "x" * 28, "body": "y" * 80, "cta": "Shop now", "limits": {"headline": 30, "body": 90, "cta": 15}}
    assert limits_used(data) == ["Headline 28/30 chars", "Body 80/90 chars", "CTA 8/15 chars"]


def test_limits_follow_the_order_of_the_text_not_the_stored_keys():
    data = {"cta": "Shop now", "body": "Grippy shoes.", "headline": "Trail ready", "limits": {"cta": 15, "body": 90, "headline": 30}}
    text = "Headline: Trail ready\nBody: Grippy shoes.\nCTA: Shop now"
    assert limits_used(data, text) == ["Headline 11/30 chars", "Body 13/90 chars", "CTA 8/15 chars"]


def test_social_limits_count_the_whole_post():
    data = {"post": "p" * 250, "limits": {"post": 262}, "length": 268, "platform_limit": 280}
    assert limits_used(data) == ["Post 250/262 chars", "Whole post 268/280 chars"]


def test_no_limits_no_line():
    assert limits_used({"limits": "nonsense"}) == []
    assert limits_used({}) == []
