"""A recommendation message must name one of its customer's recommended items."""
from pressroom.safety.models import SafetyPolicy
from pressroom_recommendation.coverage import RecommendationCoverageCheck
from tests.quality.conftest import judge

DATA = {"recommendations": [{"name": "Canvas Tote", "score": 0.9}, {"name": "Linen Apron", "score": 0.8}]}


def test_a_message_naming_none_of_the_recommended_items_is_flagged():
    result = judge(RecommendationCoverageCheck(), "Hi Maya! We think you'll love our latest arrivals.", data=DATA)
    assert result.decision == "flag" and "Canvas Tote" in result.reason


def test_a_message_naming_one_recommended_item_passes():
    assert judge(RecommendationCoverageCheck(), 'Hi Maya, the "canvas tote" is back!', data=DATA).decision == "pass"
    assert judge(RecommendationCoverageCheck(), "Hello, any text at all.", data={}).decision == "pass"  # not a recommendation


def test_coverage_follows_the_quality_switch():
    text = "Hi Maya! We think you'll love our latest arrivals."
    assert judge(RecommendationCoverageCheck(), text, data=DATA, policy=SafetyPolicy(quality_enabled=False)).decision == "pass"
