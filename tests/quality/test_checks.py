"""Each quality check on copy it must flag and on clean copy it must let through."""
import pytest

from pressroom.safety.checks.quality import QUALITY_CHECK_NAMES, quality_checks
from pressroom.safety.checks.quality.facts import UnsupportedFactCheck
from pressroom.safety.checks.quality.form import EmptyFieldCheck, ExtraHashtagCheck, TruncatedCheck
from pressroom.safety.checks.quality.language import LanguageCheck
from pressroom.safety.checks.quality.repetition import RepetitionCheck
from pressroom.safety.checks.quality.residue import MetaTextCheck, PlaceholderCheck
from pressroom.safety.checks.base import Subject
from pressroom.safety.registry import all_checks, stage_checks
from tests.quality.conftest import judge

AD_BRIEF = {"product": "TrailRunner X2", "offer": "20% off until Sunday", "channels": ["search"]}
SOCIAL_BRIEF = {"topic": "our spring sneaker party", "platforms": ["x"], "hashtags": ["SpringSneaks", "Trucco"]}
CLEAN_AD = "Headline: Grip Every Trail\nBody: Get 20% off the TrailRunner X2 until Sunday. Built for rocky ground.\nCTA: Shop now."


def flagged(check, text, brief=None, **kwargs):
    result = judge(check, text, brief, **kwargs)
    assert result.decision in ("pass", "flag")  # a quality check never blocks
    return result.decision == "flag"


@pytest.mark.parametrize("text", [
    "Dear [User Name], thanks for joining.", "Hi {name}, your order shipped.", "Visit <insert link> today.",
    "Subject: Placeholder: www.shop.com", "Lorem ipsum dolor sit amet.", "Launch date: TBD.", "Save XX% today.",
    "Signed, [Your Title]", "Hi %FIRSTNAME%, welcome back.", "Call Your Phone Number for details.",
])
def test_placeholder_flags_template_residue(text):
    result = judge(PlaceholderCheck(), text)
    assert result.decision == "flag" and result.evidence
    first = result.evidence[0]
    assert text[first.start:first.end] == first.text and first.reason


@pytest.mark.parametrize("text", [CLEAN_AD, "Size XXL in stock.", "See our guide [1] for care tips.",
                                  "Questions? Mail [EMAIL] today."])  # [EMAIL]: the PII redaction's own marker
def test_placeholder_passes_clean_copy(text):
    assert not flagged(PlaceholderCheck(), text)


@pytest.mark.parametrize("text", [
    "Body: Here's a concise yet impactful ad template for TrailRunner X2 Trail shoes:",
    "As an AI language model, I suggest this headline.", "Sure! Here is your post about the party.",
    "Note: this copy can be shortened for mobile.", "Body: Headline: Warm Light", "Option 1: Sip slow. Option 2: Stay warm.",
    "I hope this helps! Feel free to adjust the tone.", "Preview: Sender: A.C. Brown, Marketing Copywriter",
    # The prompt's instructions coming back as copy (seen from the 135M default model).
    "Rewrite the above message with no hidden hashtags, links, names, or dates.",
    "Great deals this week.\n\nInvite the reader to act.", "(Include the exact name in double quotes, as per your request.)",
    "Subject: Sending a complimentary five-to-eight-word e-mail", "Keep it short, no more than 30 words.",
    "Preview: Sentence: Enjoy 20% off.", "Written by: Sarah Johnson\n\nOur bakery opens Saturday.",
    "Here's a short, friendly message for Maya recommending the socks.",
    "Preview: Campaign: Member early access", "Body: Product: Kids' waterproof jacket",
    "Subject: Hey there, I'm excited to help with your next campaign!", "Subject: I'm Max, your creative coach.",
])
def test_meta_text_flags_talk_about_the_task(text):
    assert flagged(MetaTextCheck(), text)


@pytest.mark.parametrize("text", [CLEAN_AD, "Here's the deal: two for one, all weekend!", "Sure-footed on every trail.",
                                  "Subject: Your autumn reading list\nPreview: Ten staff picks for cosy evenings.",
                                  "The e-reader case that fits the reader you already own.",
                                  "No hidden fees, no contracts: just fast broadband.", "Delivery takes two to three days.",
                                  "Answer the call of the mountains.", "Headline: Output you can measure"])
def test_meta_text_passes_clean_copy(text):
    assert not flagged(MetaTextCheck(), text)


@pytest.mark.parametrize("text", [
    "Join us at https://www.facebook.com/SpringSneakPartyTrucco", "Mail hello@trucco.com for tickets.",
    "Only £12.39 for an upgrade.", "Now 35% off!", "For the upcoming 2023 season.", "Offer ends March 14th.",
    "Call 0800 123 4567 now.", "Keeps drinks hot for 24 hours.", "A 750 ml bottle.", "From my 15-year project.",
])
def test_unsupported_fact_flags_values_absent_from_the_brief(text):
    result = judge(UnsupportedFactCheck(), text, AD_BRIEF)
    assert result.decision == "flag" and "not in the brief" in result.reason


def test_unsupported_fact_passes_grounded_values_and_subjects_without_a_brief():
    assert not flagged(UnsupportedFactCheck(), "Get 20% off until Sunday.", AD_BRIEF)
    assert not flagged(UnsupportedFactCheck(), "Only $49.00 at trucco.com.", "TrailRunner at $49, see trucco.com")
    assert not flagged(UnsupportedFactCheck(), "Now 35% off at trucco.com!")  # no brief: nothing to compare with
    assert not flagged(UnsupportedFactCheck(), "An 800-lumen light, 26 cm wide.", "800 lumen front light, 26 cm")
    assert not flagged(UnsupportedFactCheck(), "Open 7 days a week, 2 for 1 before 9, 3 in 1 pods.", AD_BRIEF)


def test_a_number_the_brief_gives_as_one_kind_does_not_ground_another_kind():
    # "20% off" in the brief does not make "$20" a given price, nor "280 g" a "£280" one.
    assert flagged(UnsupportedFactCheck(), "Now just $20.", AD_BRIEF)
    assert flagged(UnsupportedFactCheck(), "Only £280 today.", "Trail shoe, 280 g")
    assert not flagged(UnsupportedFactCheck(), "Only £49 today, 280 g light.", "Trail shoe, 280 g, price 49")


@pytest.mark.parametrize("text", [
    " ".join(["I'm so glad you found my products."] * 3), "Discover TrailRunner TrailRunner X2.",
    "Great great great coffee.", "and more and more and more and more fun",
    "Summer is here!\n\n🌞🌊\n\n🌞🌊\n\n🌞🌊",
])
def test_repetition_flags_loops(text):
    assert flagged(RepetitionCheck(), text)


@pytest.mark.parametrize("text", [CLEAN_AD, "Shop now. Shop now.", "Very very warm, and bye bye cold ears.", "🌞🌊\n\n🌞🌊\nSee you soon.",
                                  "Light, fast and grippy: light enough for races, fast enough for PBs."])
def test_repetition_passes_clean_copy(text):
    assert not flagged(RepetitionCheck(), text)


@pytest.mark.parametrize("text", [
    "Body: Discover the X2, offering exclusive specials while\nCTA: Shop now.", "CTA: As you plan to",
    "Our riverside studio reopens and we cannot wait to welcome every one of you back to the studio on", 
    "Body: Grippy, light, fast,",
    "The beanie is knitted from recycled wool in forest green and keeps you warm on the coldest mountain mornings",
])
def test_truncated_flags_text_cut_mid_sentence(text):
    assert flagged(TruncatedCheck(), text)


@pytest.mark.parametrize("text", [CLEAN_AD, "Shop now", "Headline: Sign in and save", "Ready to ride?",
                                  "Party on Saturday! DJs and free laces.\n\n#SpringSneaks #Trucco",
                                  "Register for our free Thursday session on warehouse automation at northwind.io/webinar"])
def test_truncated_passes_finished_copy(text):
    assert not flagged(TruncatedCheck(), text)


@pytest.mark.parametrize("text", ["Headline: Warm\nBody: No.\nCTA: Shop now", "Headline: #5.\nBody: Hot coffee.",
                                  "Headline: Warm\nBody: Hot coffee.\nCTA:", "Headline: -\nBody: Hot coffee.",
                                  "Headline: X2\nBody: Grip.\nCTA: - Reaction", "Subject: Boots\nPreview: N/A", ""])
def test_empty_field_flags_empty_or_label_only_fields(text):
    assert flagged(EmptyFieldCheck(), text)


def test_empty_field_passes_complete_fields():
    assert not flagged(EmptyFieldCheck(), CLEAN_AD)
    assert not flagged(EmptyFieldCheck(), "Go.")
    assert not flagged(EmptyFieldCheck(), "Subject: Save on Rain Gear\nPreview: Stay dry.\nCTA: Go")


def test_hashtags_flags_tags_beyond_those_requested():
    result = judge(ExtraHashtagCheck(), "Party Saturday! #SpringSneaks #Trucco #Shoes #Party", SOCIAL_BRIEF)
    assert result.decision == "flag" and [e.text for e in result.evidence] == ["#Shoes", "#Party"]


def test_hashtags_passes_requested_tags_and_briefs_that_say_nothing_about_them():
    assert not flagged(ExtraHashtagCheck(), "Party Saturday! #springsneaks #Trucco", SOCIAL_BRIEF)
    assert not flagged(ExtraHashtagCheck(), "Party Saturday! #Shoes", AD_BRIEF)


def test_language_flags_copy_in_another_language_than_the_brief():
    result = judge(LanguageCheck(), "Hola amigos, nuestra nueva colección de zapatillas ya está aquí para todos los corredores.", AD_BRIEF)
    assert result.decision == "flag" and "Spanish" in result.reason and "English" in result.reason
    german = {"product": "Reisebecher", "description": "Der Becher hält den Kaffee drei Stunden lang heiß und ist jetzt auch in Grün da."}
    assert flagged(LanguageCheck(), "Our travel mug keeps your coffee hot for three hours, and it is now available in green.", german)
    assert flagged(LanguageCheck(), "新しいオーツミルクのフラットホワイトが月曜日から登場します。", AD_BRIEF)


def test_language_passes_matching_or_unclear_text():
    assert not flagged(LanguageCheck(), CLEAN_AD, AD_BRIEF)
    assert not flagged(LanguageCheck(), "Le Creuset pans, café au lait mornings.", AD_BRIEF)  # loanwords: unclear, skipped


def test_quality_checks_are_registered_flag_only_and_run_on_artifacts_only():
    names = {check.name for check in all_checks()}
    assert set(QUALITY_CHECK_NAMES) <= names
    assert {check.name for check in stage_checks("quality")} >= set(QUALITY_CHECK_NAMES)
    assert not set(QUALITY_CHECK_NAMES) & {check.name for check in stage_checks("safety")}
    for check in quality_checks():
        assert check.rules_only and check.stage == "quality"
        assert not check.applies_to_subject(Subject(text="[User Name]", label="input.prompt"))
        assert check.applies_to_subject(Subject(text="[User Name]", label="artifact"))


def test_a_required_disclaimer_at_the_end_hides_neither_a_cut_body_nor_counts_as_a_made_up_fact():
    from pressroom.safety.checks.base import Subject
    from pressroom.safety.checks.quality.facts import UnsupportedFactCheck
    from pressroom.safety.checks.quality.form import TruncatedCheck
    from pressroom.safety.models import SafetyPolicy

    policy = SafetyPolicy(required_disclaimers={"marketing.ad_copy": ["Offer ends 31 May 2027. Terms apply."]})
    brief = {"product": "Trail shoes", "offer": "20% off"}
    cut = Subject(text="Discover our trail shoes, offering 20% off every pair while Offer ends 31 May 2027. Terms apply.",
                  use_case="marketing.ad_copy", label="artifact", brief=brief)
    whole = Subject(text="Discover our trail shoes, 20% off every pair. Offer ends 31 May 2027. Terms apply.",
                    use_case="marketing.ad_copy", label="artifact", brief=brief)
    truncated = TruncatedCheck().run([cut, whole], policy)
    assert [r.decision for r in truncated] == ["flag", "pass"]
    assert "while" in truncated[0].reason
    facts = UnsupportedFactCheck().run([whole], policy)
    assert facts[0].decision == "pass", facts[0].reason
    elsewhere = SafetyPolicy(required_disclaimers={})
    assert UnsupportedFactCheck().run([whole], elsewhere)[0].decision == "flag"  # the date is not in the brief
