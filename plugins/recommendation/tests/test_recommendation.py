"""The recommendation plugin's own tests, on the SDK's fake runtime."""
import pytest

from pressroom.plugins import Subject
from pressroom.plugins.testing import FakeRuntime, UseCaseConformance, run_use_case
from pressroom_recommendation.grounding import CatalogGroundingCheck, named_items, unknown_names
from pressroom_recommendation.usecase import PersonalisedRecommendations

CATALOG = [
    {"id": "p1", "name": "Trail Runner 2", "description": "waterproof trail running shoes", "category": "shoes"},
    {"id": "p2", "name": "Road Racer", "description": "lightweight road running shoes", "category": "shoes"},
    {"id": "p3", "name": "Merino Running Socks", "description": "wool socks for running", "category": "socks"},
    {"id": "p4", "name": "Espresso Machine", "description": "coffee machine for the kitchen", "category": "kitchen"},
    {"id": "p5", "name": "Milk Frother", "description": "frothing milk for coffee", "category": "kitchen"},
]
CUSTOMERS = [
    {"id": "c1", "name": "Ana", "events": [{"product_id": "p1", "type": "purchase", "at": "2026-11-01T10:00:00Z"},
                                            {"product_id": "p2", "type": "view", "at": "2026-11-20T10:00:00Z"}]},
    {"id": "c2", "name": "Ben", "events": [{"product_id": "p4", "type": "purchase", "at": "2026-10-01T10:00:00Z"}]},
]
VALID = {"catalog": CATALOG, "customers": CUSTOMERS, "top_k": 2}
CSV = "id,name,description,category\n" + "\n".join(f'{p["id"]},{p["name"]},{p["description"]},{p["category"]}' for p in CATALOG)


def quoting_runtime(extra: str = "") -> FakeRuntime:
    """Replies name exactly the products the prompt asked for (plus `extra`)."""
    def reply(prompt: str, index: int) -> str:
        names = [name for _, _, name in named_items(prompt)]
        return "Hi! You will love " + " and ".join(f'"{n}"' for n in names) + extra + "."
    return FakeRuntime(reply)


class TestRecommendationConformance(UseCaseConformance):
    use_case = PersonalisedRecommendations
    valid_inputs = [VALID, {"catalog_csv": CSV, "customers": CUSTOMERS}]
    invalid_inputs = [
        ({"customers": CUSTOMERS}, ""),
        ({"catalog": CATALOG, "customers": [{"id": "c", "events": [{"product_id": "nope", "type": "view", "at": "2026-01-01T00:00:00Z"}]}]}, "customers"),
        ({"catalog": CATALOG, "customers": [{"id": "c", "events": [{"product_id": "p1", "type": "like", "at": "2026-01-01T00:00:00Z"}]}]}, "customers"),
        ({"catalog_csv": "sku,title\n1,x", "customers": CUSTOMERS}, "catalog_csv"),
        ({"catalog": CATALOG + CATALOG[:1], "customers": CUSTOMERS}, "catalog"),
    ]

    def runtime(self):
        return quoting_runtime()


def test_ranks_by_history_and_never_recommends_what_was_bought():
    drafts = run_use_case(PersonalisedRecommendations, VALID, runtime=quoting_runtime())
    ana, ben = (d.data for d in drafts)
    assert "p1" not in [r["product_id"] for r in ana["recommendations"]]
    assert ana["recommendations"][0]["product_id"] == "p2"  # viewed recently, running shoes
    assert "p4" not in [r["product_id"] for r in ben["recommendations"]]
    assert ben["recommendations"][0]["product_id"] == "p5"  # coffee goes with coffee
    scores = [r["score"] for r in ana["recommendations"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == 2


def test_messages_name_the_chosen_items_and_are_grounded():
    drafts = run_use_case(PersonalisedRecommendations, VALID, runtime=quoting_runtime())
    for draft in drafts:
        chosen = [r["name"] for r in draft.data["recommendations"]]
        assert draft.data["named_items"] == chosen and draft.data["unknown_items"] == []
        assert draft.data["missing_items"] == [] and not draft.data["regenerated"]


def test_a_message_naming_an_unknown_product_is_regenerated_once_then_left_for_review():
    runtime = quoting_runtime(extra=' and "Hover Board 3000"')
    drafts = run_use_case(PersonalisedRecommendations, VALID, runtime=runtime)
    assert len([r for r in runtime.requests if r.__class__.__name__ == "GenerateText"]) == 2
    assert drafts[0].data["regenerated"] and drafts[0].data["unknown_items"] == ["Hover Board 3000"]
    (result,) = CatalogGroundingCheck().run([Subject(text=drafts[0].text, data=drafts[0].data)], None)
    assert result.decision == "flag" and result.evidence[0].text == "Hover Board 3000"


def test_regeneration_that_fixes_the_message_clears_it():
    def reply(prompt, index):
        names = [name for _, _, name in named_items(prompt)]
        bogus = "" if "Only these products exist" in prompt else ' and "Jetpack"'
        return "Try " + ", ".join(f'"{n}"' for n in names) + bogus
    drafts = run_use_case(PersonalisedRecommendations, VALID, runtime=FakeRuntime(reply))
    assert all(d.data["regenerated"] and d.data["unknown_items"] == [] for d in drafts)


def test_grounding_helpers():
    assert unknown_names('Buy "trail runner 2" and “Moon Boots”', {"Trail Runner 2"}) == ["Moon Boots"]
    (clean,) = CatalogGroundingCheck().run([Subject(text="hello", data={})], None)
    assert clean.decision == "pass"


def test_csv_and_json_catalogs_give_the_same_ranking():
    from_json = run_use_case(PersonalisedRecommendations, VALID, runtime=quoting_runtime())
    from_csv = run_use_case(PersonalisedRecommendations, {"catalog_csv": CSV, "customers": CUSTOMERS, "top_k": 2}, runtime=quoting_runtime())
    assert [d.data["recommendations"] for d in from_json] == [d.data["recommendations"] for d in from_csv]


def test_unknown_product_error_names_the_event():
    from pydantic import ValidationError

    bad = {"catalog": CATALOG, "customers": [{"id": "c", "events": [{"product_id": "zz", "type": "view", "at": "2026-01-01T00:00:00Z"}]}]}
    with pytest.raises(ValidationError, match=r"customers\[0\]\.events\[0\]: unknown product 'zz'"):
        PersonalisedRecommendations.Input.model_validate(bad)


def test_messages_carry_the_workspace_required_disclaimers():
    from pressroom.plugins.testing import make_context

    ctx = make_context(required_disclaimers=("Terms apply.",))
    drafts = run_use_case(PersonalisedRecommendations, VALID, runtime=quoting_runtime(), ctx=ctx)
    assert drafts and all(d.text.endswith(". Terms apply.") for d in drafts)
    assert all(d.params["disclaimers_added"] == ["Terms apply."] for d in drafts)
    assert all(not d.data["missing_items"] for d in drafts)  # the products are still named


def test_a_message_that_names_none_of_the_customers_items_is_written_again():
    def reply(prompt, index):
        if "Only these products exist" not in prompt:
            return "I'm so glad you found my products."
        return "Try " + ", ".join(f'"{name}"' for _, _, name in named_items(prompt)) + "."
    runtime = FakeRuntime(reply)
    drafts = run_use_case(PersonalisedRecommendations, VALID, runtime=runtime)
    assert all(d.data["regenerated"] and d.data["missing_items"] == [] for d in drafts)
    first = next(r for r in runtime.requests if r.__class__.__name__ == "GenerateText")
    assert first.temperature > 0 and first.stop == ("\n\n\n",) and first.max_new_tokens <= 80


def test_a_message_that_still_names_none_of_its_items_after_the_retry_gets_them_written_in():
    drafts = run_use_case(PersonalisedRecommendations, VALID, runtime=FakeRuntime(lambda prompt, i: "Happy shopping!"))
    for draft in drafts:
        top = [r["name"] for r in draft.data["recommendations"]][:2]
        assert draft.data["regenerated"] and draft.data["items_added"]
        assert draft.text.startswith("Happy shopping! You might like ")
        assert draft.data["named_items"] == top and draft.data["unknown_items"] == []
