"""The marketing plugin's own tests, on the SDK's fake runtime."""
import pytest

from pressroom.plugins import PromptTemplate
from pressroom.plugins.testing import FakeRuntime, UseCaseConformance, make_context, run_use_case, templates_from
from pressroom_marketing.text import clean_line, trim_at_word_boundary
from pressroom_marketing.usecases.ad_copy import CHANNEL_LIMITS, AdCopy
from pressroom_marketing.usecases.email import EmailSubject
from pressroom_marketing.usecases.product import ProductDescription
from pressroom_marketing.usecases.social import SocialPost, hashtag

AD = {"product": "Trail runner shoes", "description": "Light, waterproof", "channels": ["search", "display"], "variants": 2}


class TestAdCopyConformance(UseCaseConformance):
    use_case = AdCopy
    valid_inputs = [AD, {"product": "Wool scarf", "channels": ["social"], "variants": 1}]
    invalid_inputs = [({"product": "", "channels": ["search"]}, "product"),
                      ({"product": "x", "channels": ["billboard"]}, "channels"),
                      ({"product": "x", "channels": []}, "channels"),
                      ({"product": "x", "channels": ["search"], "variants": 9}, "variants")]


class TestSocialConformance(UseCaseConformance):
    use_case = SocialPost
    valid_inputs = [{"topic": "Our spring collection", "platforms": ["x", "linkedin"], "hashtags": ["spring sale", "new in"]}]
    invalid_inputs = [({"topic": "x", "platforms": ["myspace"]}, "platforms"), ({"topic": "x", "platforms": ["x"], "hashtags": ["!!"]}, "hashtags")]


class TestEmailConformance(UseCaseConformance):
    use_case = EmailSubject
    valid_inputs = [{"campaign": "Winter sale, 30% off coats", "variants": 3}]
    invalid_inputs = [({"campaign": "x", "variants": 1}, "variants"), ({"campaign": ""}, "campaign")]


class TestProductConformance(UseCaseConformance):
    use_case = ProductDescription
    valid_inputs = [{"name": "Scarf", "attributes": {"material": "recycled wool", "colour": "sage"}, "length": "short"}]
    invalid_inputs = [({"name": "Scarf", "attributes": {}}, "attributes"), ({"name": "Scarf", "attributes": {"a": " "}}, "attributes"),
                      ({"name": "Scarf", "attributes": {"a": "b"}, "length": "epic"}, "length")]


def test_fields_within_limits_are_kept_as_written():
    drafts = run_use_case(AdCopy, {**AD, "channels": ["search"], "variants": 1},
                          runtime=FakeRuntime(lambda prompt, i: ["Run further", "Light shoes that keep you dry.", "Shop now"][i % 3]))
    assert drafts[0].data["headline"] == "Run further" and drafts[0].data["cta"] == "Shop now"
    assert drafts[0].data["regenerated"] == [] and drafts[0].data["trimmed"] == []
    assert drafts[0].text == "Headline: Run further\nBody: Light shoes that keep you dry.\nCTA: Shop now"


def test_over_long_fields_are_regenerated_then_trimmed_at_a_word_boundary():
    long = "An extraordinarily lightweight waterproof trail running shoe for every single adventure you take"
    runtime = FakeRuntime(lambda prompt, i: long)
    (draft,) = run_use_case(AdCopy, {**AD, "channels": ["search"], "variants": 1}, runtime=runtime)
    assert len(runtime.requests) == 2  # first answers, then one regeneration of the over-long fields
    assert "at most 30 characters" in runtime.requests[1].prompts[0]
    for name, limit in CHANNEL_LIMITS["search"].items():
        value = draft.data[name]
        assert 0 < len(value) <= limit and long.startswith(value) and not value.endswith(" ")
        assert long[len(value)] == " "  # cut between words
    assert draft.data["trimmed"] == ["headline", "body", "cta"]


def test_a_regenerated_answer_that_fits_replaces_the_long_one():
    runtime = FakeRuntime(lambda prompt, i: "Short and sweet" if "Answer in at most" in prompt else "x" * 200)
    (draft,) = run_use_case(AdCopy, {**AD, "channels": ["display"], "variants": 1}, runtime=runtime)
    assert draft.data["headline"] == "Short and sweet" and draft.data["trimmed"] == []
    assert draft.data["regenerated"] == ["headline", "body", "cta"]


def test_brand_voice_template_shapes_the_prompt_and_is_recorded():
    voice = PromptTemplate(key="marketing.ad_copy.system", body="You write for Acme. {voice}", version=3,
                           tone="playful", audience="trail runners", words_to_avoid=("cheap",), phrases_to_include=("Run further",))
    runtime = FakeRuntime()
    ctx = make_context(templates=templates_from({"marketing.ad_copy.system": voice}))
    (draft, *_) = run_use_case(AdCopy, AD, runtime=runtime, ctx=ctx)
    system = runtime.requests[0].system_prompt
    assert system.startswith("You write for Acme.") and "Tone: playful." in system and "Never use these words: cheap." in system
    assert draft.params["template_key"] == "marketing.ad_copy.system" and draft.params["template_version"] == 3


def test_all_channels_and_variants_share_one_runtime_request():
    runtime = FakeRuntime(lambda prompt, i: "Ok")
    drafts = run_use_case(AdCopy, AD, runtime=runtime)
    assert len(runtime.requests) == 1 and len(runtime.requests[0].prompts) == 2 * 2 * 3
    assert [(d.data["channel"], d.data["variant"]) for d in drafts] == [("search", 0), ("search", 1), ("display", 0), ("display", 1)]
    assert len({d.seed for d in drafts}) == 4


def test_social_posts_fit_each_platform_with_its_hashtags():
    runtime = FakeRuntime(lambda prompt, i: "word " * 200)
    drafts = run_use_case(SocialPost, {"topic": "Spring", "platforms": ["x", "instagram"], "hashtags": ["spring sale", "new in", "eco"], "variants": 1}, runtime=runtime)
    x_post, insta = drafts
    assert len(x_post.text) <= 280 and x_post.text.endswith("#SpringSale #NewIn")
    assert insta.data["hashtags"] == ["#SpringSale", "#NewIn", "#Eco"] and len(insta.text) <= 2200


def test_email_variants_are_labelled_for_ab_testing():
    drafts = run_use_case(EmailSubject, {"campaign": "Winter sale", "variants": 3},
                          runtime=FakeRuntime(lambda p, i: "Subject: Cosy deals inside" if "subject" in p else "Coats from 49."))
    assert [d.data["ab_label"] for d in drafts] == ["A", "B", "C"]
    assert drafts[0].data["subject"] == "Cosy deals inside" and len(drafts[0].data["preview"]) <= 90


def test_product_description_uses_the_attributes():
    runtime = FakeRuntime()
    run_use_case(ProductDescription, {"name": "Scarf", "attributes": {"material": "recycled wool"}}, runtime=runtime)
    assert "- material: recycled wool" in runtime.requests[0].prompts[0]


@pytest.mark.parametrize(("raw", "clean"), [('Headline: "Run further"', "Run further"), ("**CTA:** Shop now\nmore", "Shop now"),
                                            ("1. Subject line: Hello", "Hello")])
def test_clean_line(raw, clean):
    assert clean_line(raw) == clean


def test_trim_and_hashtag_helpers():
    assert trim_at_word_boundary("hello wonderful world", 15) == "hello wonderful"
    assert trim_at_word_boundary("supercalifragilistic", 5) == "super"
    assert hashtag("spring sale!") == "#SpringSale"


# -- required disclaimers (the workspace's safety policy, through the run context) ---------
def test_ad_copy_writes_the_required_disclaimer_into_every_body_within_its_limit():
    body = "Light shoes that keep you dry on every trail. Grip for mud, rock and snow all winter long"
    runtime = FakeRuntime(lambda prompt, i: ["Run further", body, "Shop now"][i % 3])
    ctx = make_context(required_disclaimers=("Terms apply.",))
    drafts = run_use_case(AdCopy, {**AD, "channels": ["search", "social"], "variants": 1}, runtime=runtime, ctx=ctx)
    for draft in drafts:
        limit = CHANNEL_LIMITS[draft.data["channel"]]["body"]
        assert draft.data["body"].endswith(" Terms apply.") and len(draft.data["body"]) <= limit
        assert f"Body: {draft.data['body']}\n" in draft.text
        assert draft.params["disclaimers_added"] == ["Terms apply."] == draft.data["disclaimers_added"]
        assert draft.data["headline"] == "Run further" and draft.data["cta"] == "Shop now"
    search = next(d for d in drafts if d.data["channel"] == "search")
    # 90 characters cannot hold both: the body keeps its first whole sentence.
    assert search.data["body"] == "Light shoes that keep you dry on every trail. Terms apply."
    assert search.data["shortened_for_disclaimers"] == ["body"]


def test_without_required_disclaimers_nothing_is_added():
    (draft,) = run_use_case(AdCopy, {**AD, "channels": ["search"], "variants": 1},
                            runtime=FakeRuntime(lambda prompt, i: ["Run further", "Light shoes.", "Shop now"][i % 3]))
    assert draft.data["body"] == "Light shoes." and "disclaimers_added" not in draft.params


@pytest.mark.parametrize("use_case, data, field, limit", [
    (EmailSubject, {"campaign": "Winter sale", "variants": 2}, "preview", 90),
    (ProductDescription, {"name": "Scarf", "attributes": {"material": "wool"}}, "description", 200),
    (SocialPost, {"topic": "Spring sale", "platforms": ["x"], "hashtags": ["spring sale"], "variants": 1}, "post", 280),
])
def test_every_text_use_case_writes_the_disclaimer_into_its_copy(use_case, data, field, limit):
    ctx = make_context(required_disclaimers=("Terms apply.", "18+ only."))
    long = "Soft warm wool for cold mornings and long walks. " * 8
    for draft in run_use_case(use_case, data, runtime=FakeRuntime(lambda prompt, i: long), ctx=ctx):
        assert draft.data[field].endswith(" Terms apply. 18+ only.") and len(draft.data[field]) <= limit
        assert "Terms apply. 18+ only." in draft.text
        assert use_case is not SocialPost or (len(draft.text) <= 280 and draft.text.endswith("#SpringSale"))
        assert draft.params["disclaimers_added"] == ["Terms apply.", "18+ only."]


def _quality_review(brief: dict):
    """The real quality stage's rules, with the default policy, as the worker binds them."""
    from pressroom.safety.models import SafetyPolicy
    from pressroom.safety.services import quality_problems

    return lambda text: quality_problems(text=text, policy=SafetyPolicy(), use_case=AdCopy.key, brief=brief)


def _replies(first: dict, later: dict):
    """A FakeRuntime reply per field: `first` for the first request, then `later`."""
    seen: list[str] = []

    def reply(prompt: str, i: int) -> str:
        kind = "headline" if "headline" in prompt else "cta" if "call to action" in prompt else "body"
        seen.append(kind)
        return (first if seen.count(kind) == 1 else later)[kind]
    return reply


@pytest.mark.django_db
def test_a_field_the_quality_stage_would_flag_is_regenerated_before_the_draft_is_returned():
    data = {**AD, "channels": ["search"], "variants": 1}
    runtime = FakeRuntime(_replies(
        {"headline": "Run further", "body": "Here's a concise ad template for your shoes:", "cta": "Shop now"},
        {"headline": "Run further", "body": "Light shoes that keep you dry on every trail.", "cta": "Shop now"}))
    (draft,) = run_use_case(AdCopy, data, runtime=runtime, ctx=make_context(quality_review=_quality_review(data)))
    assert draft.data["body"] == "Light shoes that keep you dry on every trail."
    assert draft.data["quality_regenerated"] == ["body"]
    (again,) = runtime.requests[-1].prompts  # only the flagged field is asked again
    assert again.startswith(runtime.requests[0].prompts[1]) and "no placeholders" in again


@pytest.mark.django_db
def test_a_regeneration_that_is_no_better_keeps_the_first_answer():
    data = {**AD, "channels": ["search"], "variants": 1}
    runtime = FakeRuntime(_replies(
        {"headline": "Run further", "body": "Dear [Customer Name], try our shoes.", "cta": "Shop now"},
        {"headline": "Run further", "body": "Dear [Customer Name], try our shoes.", "cta": "Shop now"}))
    (draft,) = run_use_case(AdCopy, data, runtime=runtime, ctx=make_context(quality_review=_quality_review(data)))
    assert draft.data["body"] == "Dear [Customer Name], try our shoes."
    assert draft.data["quality_regenerated"] == ["body"]


def test_an_answer_cut_by_its_budget_keeps_its_whole_sentences_or_is_regenerated():
    data = {**AD, "channels": ["search"], "variants": 1}
    runtime = FakeRuntime(_replies(
        {"headline": ("Run further", "stop"), "body": ("Light shoes. Dry feet on every", "length"),
         "cta": ("Shop the", "length")},
        {"headline": "Run further", "body": "unused", "cta": "Shop now"}))
    (draft,) = run_use_case(AdCopy, data, runtime=runtime)
    assert draft.data["body"] == "Light shoes."  # the complete sentence survives, no regeneration
    assert draft.data["cta"] == "Shop now"  # nothing whole was left: regenerated
    assert draft.data["regenerated"] == ["cta"]


def test_each_field_gets_a_token_budget_from_its_limit():
    runtime = FakeRuntime(lambda prompt, i: "Fine")
    run_use_case(AdCopy, {**AD, "channels": ["search"], "variants": 1}, runtime=runtime)
    first = runtime.requests[0]
    assert first.budgets == (18, 38, 13)  # 30, 90 and 15 characters
    assert first.stop == ("\n\n\n",)


@pytest.mark.parametrize("reply, answer", [
    ("Dear Alex,\nYour winter coat is waiting", "Your winter coat is waiting"),
    ("Subject:\nNew trail shoes just landed", "New trail shoes just landed"),
    ("Here's a headline for you:\n\"Grip the Trail\"", "Grip the Trail"),
    ("Shop now: 20% off", "Shop now: 20% off"),
    ("Hey there,", "Hey there,"),
])
def test_a_one_line_field_takes_the_first_line_that_is_an_answer(reply, answer):
    assert clean_line(reply) == answer


@pytest.mark.parametrize("text, closed", [
    ("Savor the flavors of a", "Savor the flavors"),
    ("Sell it and", "Sell it"),
    ("Send it to the go-ahead,", "Send it to the go-ahead"),
    ("Don't miss the", "Don't miss"),
    ("Shop now", "Shop now"),
    ("The", "The"),
])
def test_a_cut_phrase_does_not_end_on_a_word_that_leaves_it_open(text, closed):
    from pressroom_marketing.text import close_phrase

    assert close_phrase(text) == closed


def _review_for(use_case, brief: dict):
    """The real quality stage's rules for `use_case`, with the default policy."""
    from pressroom.safety.models import SafetyPolicy
    from pressroom.safety.services import quality_problems

    return lambda text: quality_problems(text=text, policy=SafetyPolicy(), use_case=use_case.key, brief=brief)


SCARF = {"name": "Scarf", "attributes": {"material": "recycled wool", "colour": "sage"}, "length": "short", "variants": 1}


@pytest.mark.django_db
def test_a_sentence_with_an_invented_fact_is_left_out_when_the_rest_stands_alone():
    reply = "A soft scarf in recycled wool. Only £14 until March 2023. Wear it all winter in sage."
    runtime = FakeRuntime(lambda prompt, i: reply)
    (draft,) = run_use_case(ProductDescription, SCARF, runtime=runtime,
                            ctx=make_context(quality_review=_review_for(ProductDescription, SCARF)))
    assert draft.text == "A soft scarf in recycled wool. Wear it all winter in sage."
    assert draft.data["sentences_dropped"] == {"description": ["Only £14 until March 2023."]}
    assert len(runtime.requests) == 1  # repaired without asking the model again


@pytest.mark.django_db
def test_a_text_that_is_one_flagged_sentence_is_regenerated_not_emptied():
    runtime = FakeRuntime(lambda prompt, i: "A soft scarf in recycled wool, sage green." if "finished copy" in prompt
                          else "Only £14 until March 2023.")
    (draft,) = run_use_case(ProductDescription, SCARF, runtime=runtime,
                            ctx=make_context(quality_review=_review_for(ProductDescription, SCARF)))
    assert draft.text == "A soft scarf in recycled wool, sage green."
    assert draft.data["sentences_dropped"] == {} and draft.data["quality_regenerated"] == ["description"]


@pytest.mark.django_db
def test_the_quality_stage_reviews_a_field_as_it_will_ship_after_trimming():
    # One long sentence without a clause break: it ships cut between words, which the
    # quality stage flags as unfinished, so it is regenerated (before, the stage saw the
    # untrimmed sentence, passed it, and the cut version shipped).
    data = {**AD, "channels": ["search"], "variants": 1}
    long = "The Grippy TrailRunner X2 shoes offer exclusive access to the iconic trails that runners love every weekend."
    runtime = FakeRuntime(_replies({"headline": "Run further", "body": long, "cta": "Shop now"},
                                   {"headline": "Run further", "body": long, "cta": "Shop now"}))
    first_reply = runtime.text
    runtime.text = lambda prompt, i: "Light shoes that keep you dry." if "finished copy" in prompt else first_reply(prompt, i)
    (draft,) = run_use_case(AdCopy, data, runtime=runtime, ctx=make_context(quality_review=_review_for(AdCopy, data)))
    assert draft.data["body"] == "Light shoes that keep you dry."
    assert draft.data["quality_regenerated"] == ["body"]


def test_an_over_long_sentence_keeps_its_opening_clause_as_a_sentence():
    from pressroom_marketing.text import main_clause, trim_at_sentence_or_word

    long = "The woolen linen bedding offers a range of fresh scents, transforming every aspect of your sleep tonight"
    assert trim_at_sentence_or_word(long, 90) == "The woolen linen bedding offers a range of fresh scents."
    assert main_clause("Light, waterproof and grippy shoes for every trail runner out there today", 40) == ""  # too short a clause
    assert trim_at_sentence_or_word("Fresh, fast shoes for every runner who loves long trails in the hills", 40) == (
        "Fresh, fast shoes for every runner who")


@pytest.mark.django_db
@pytest.mark.parametrize("budget, requests", [(0, 1), (1, 2), (2, 3)])
def test_a_field_still_flagged_is_regenerated_within_the_plugin_budget(budget, requests):
    data = {**AD, "channels": ["search"], "variants": 1}
    runtime = FakeRuntime(lambda prompt, i: "Dear [Customer Name], try it." if "ad text" in prompt else "Shop now")
    ctx = make_context(quality_review=_review_for(AdCopy, data), settings={"quality_regenerations": budget})
    (draft,) = run_use_case(AdCopy, data, runtime=runtime, ctx=ctx)
    assert len(runtime.requests) == requests
    assert all(request.prompts and "ad text" in request.prompts[0] for request in runtime.requests[1:])


def test_phrases_are_sampled_cooler_than_body_copy():
    runtime = FakeRuntime(lambda prompt, i: "Fine")
    ctx = make_context(settings={"temperature": 0.9, "phrase_temperature": 0.5})
    run_use_case(AdCopy, {**AD, "channels": ["search"], "variants": 1}, runtime=runtime, ctx=ctx)
    assert runtime.requests[0].temperatures == (0.5, 0.9, 0.5)  # headline, body, call to action


@pytest.mark.parametrize("settings, message", [
    ({"phrase_temperature": 0}, "phrase_temperature"),
    ({"quality_regenerations": 9}, "quality_regenerations"),
    ({"quality_regenerations": "2"}, "quality_regenerations"),
])
def test_plugin_settings_are_validated(settings, message):
    from pressroom_marketing.apps import MarketingConfig

    with pytest.raises(ValueError, match=message):
        MarketingConfig.validate(None, {**MarketingConfig.default_settings, **settings})


def test_each_field_and_channel_gets_its_own_few_shot_exchange():
    runtime = FakeRuntime(lambda prompt, i: "Fine")
    run_use_case(AdCopy, {**AD, "channels": ["search", "display"], "variants": 1}, runtime=runtime,
                 ctx=make_context(settings={"few_shot": True}))
    shots = runtime.requests[0].examples
    assert len(shots) == 6 and all(len(turns) == 1 for turns in shots)
    (search_request, search_answer), = shots[0]
    (display_request, display_answer), = shots[3]
    assert search_answer != display_answer  # a headline example per channel
    assert "at most 30 characters" in search_request and "at most 25 characters" in display_request
    assert search_request.startswith("Product: Oak chopping board.") and "Trail runner" not in search_request


def test_a_workspace_template_replaces_the_default_examples_and_the_setting_turns_them_on():
    stored = PromptTemplate(key="marketing.email_subject.examples.subject", version=3,
                            body="campaign: Winter coats\n=> Coats for Cold Mornings")
    runtime = FakeRuntime(lambda prompt, i: "Fine")
    ctx = make_context(templates=templates_from({stored.key: stored}), settings={"few_shot": True})
    run_use_case(EmailSubject, {"campaign": "Spring sale", "variants": 2}, runtime=runtime, ctx=ctx)
    subject_turns = runtime.requests[0].examples[0]
    assert subject_turns == (("Campaign: Winter coats. \nWrite one e-mail subject line for it: five to eight words, no "
                              "greeting.\nReply with the subject line only, at most 60 characters.", "Coats for Cold Mornings"),)
    runtime = FakeRuntime(lambda prompt, i: "Fine")
    run_use_case(EmailSubject, {"campaign": "Spring sale", "variants": 2}, runtime=runtime)  # off by default
    assert runtime.requests[0].examples == ((),) * 4


def test_an_answer_that_repeats_its_worked_example_is_regenerated():
    from pressroom_marketing.text import Field as TextField
    from pressroom_marketing.text import copied_from_examples

    field = TextField("cta", "Product: Harbour mug. Write a call to action.", 15,
                      examples=(("Product: Folding kite. Write a call to action.", "Get the kite"),))
    assert copied_from_examples(field, "Get the kite") == ["kite"]
    assert copied_from_examples(field, "Get your mug") == []
    # A workspace's stored example for the search CTA: the kite's answer, copied, is retried.
    stored = PromptTemplate(key="marketing.ad_copy.examples.search.cta", version=1,
                            body="product: Folding kite\n=> Get the kite")
    runtime = FakeRuntime(lambda prompt, i: "Shop mugs" if "finished copy" in prompt else
                          ("Get the kite" if "call to action" in prompt else "Harbour mugs that last."))
    ctx = make_context(quality_review=lambda text: [], templates=templates_from({stored.key: stored}),
                       settings={"few_shot": True})
    (draft,) = run_use_case(AdCopy, {"product": "Harbour mug", "channels": ["search"], "variants": 1},
                            runtime=runtime, ctx=ctx)
    assert draft.data["cta"] == "Shop mugs" and draft.data["quality_regenerated"] == ["cta"]
