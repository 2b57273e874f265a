"""The workspace's quality settings: switches, limits, validation and the policy API."""
import pytest
from django.core.exceptions import ValidationError

from pressroom.accounts.access import Access
from pressroom.core.errors import InputInvalid
from pressroom.safety.checks.quality.facts import UnsupportedFactCheck
from pressroom.safety.checks.quality.repetition import RepetitionCheck
from pressroom.safety.checks.quality.residue import PlaceholderCheck
from pressroom.safety.checks.quality.form import TruncatedCheck
from pressroom.safety.models import SafetyPolicy
from pressroom.safety.services import POLICY_FIELDS, safety_policy_update
from tests.quality.conftest import judge


def test_quality_can_be_switched_off_whole_or_per_check():
    assert judge(PlaceholderCheck(), "Hi [User Name]").decision == "flag"
    assert judge(PlaceholderCheck(), "Hi [User Name]", policy=SafetyPolicy(quality_enabled=False)).decision == "pass"
    off = SafetyPolicy(quality_disabled_checks=["quality_placeholder"])
    assert judge(PlaceholderCheck(), "Hi [User Name]", policy=off).decision == "pass"
    assert judge(RepetitionCheck(), "the the offer", policy=off).decision == "flag"


def test_limits_come_from_the_policy():
    assert judge(RepetitionCheck(), "Boots boots on sale.").decision == "flag"
    assert judge(RepetitionCheck(), "Boots boots on sale.", policy=SafetyPolicy(quality_max_word_run=2)).decision == "pass"
    long_line = "Our new travel mug keeps your coffee hot and your tea warm for hours"
    assert judge(TruncatedCheck(), long_line).decision == "flag"
    assert judge(TruncatedCheck(), long_line, policy=SafetyPolicy(quality_min_words_for_punctuation=30)).decision == "pass"
    only_urls = SafetyPolicy(quality_fact_types=["url"])
    assert judge(UnsupportedFactCheck(), "Now 35% off!", {"product": "Mug"}, policy=only_urls).decision == "pass"


@pytest.mark.parametrize("field, value", [
    ("quality_disabled_checks", ["no_such_check"]), ("quality_disabled_checks", "quality_placeholder"),
    ("quality_fact_types", ["rumours"]), ("quality_max_word_run", 0), ("quality_min_words_for_punctuation", 500),
    ("quality_language", "klingon"),
])
def test_clean_refuses_unusable_quality_settings(field, value):
    policy = SafetyPolicy(**{field: value})
    with pytest.raises(ValidationError) as error:
        policy.clean()
    assert field in error.value.message_dict


def test_defaults_are_valid_and_in_the_policy_api():
    SafetyPolicy().clean()
    for name in ("quality_enabled", "quality_disabled_checks", "quality_fact_types", "quality_max_word_run",
                 "quality_max_sentence_repeats", "quality_min_words_for_punctuation", "quality_extra_hashtags_allowed",
                 "quality_language"):
        assert name in POLICY_FIELDS


@pytest.mark.django_db
def test_policy_update_changes_and_validates_quality_settings(workspace):
    policy = safety_policy_update(access=Access.system(workspace), quality_disabled_checks=["quality_language"],
                                  quality_max_word_run=2)
    policy.refresh_from_db()
    assert policy.quality_disabled_checks == ["quality_language"] and policy.quality_max_word_run == 2
    with pytest.raises(InputInvalid):
        safety_policy_update(access=Access.system(workspace), quality_fact_types=["gossip"])
