"""Each job form field shows a working example from the use case's input schema: typed
into the form as shown, it parses and the schema accepts it."""
import pytest
from pressroom.dashboard.forms import UseCaseForm, schema_example
from pressroom.jobs.validation import use_case_get

pytestmark = pytest.mark.django_db


def _form(use_case_key, data=None):
    return UseCaseForm(data, schema=use_case_get(use_case_key).input_json_schema())


def test_list_field_example_is_one_item_per_line_and_parses():
    field = _form("core.semantic-rank").fields["candidates"]
    assert field.example.splitlines() == ["Gore-Tex trail runner", "Canvas city sneaker", "Waterproof hiking boot"]
    assert field.clean(field.example) == field.example.splitlines()


def test_the_examples_fill_a_form_the_schema_accepts():
    form = _form("core.semantic-rank")
    data = {name: form.fields[name].example for name in ("query", "candidates")}
    filled = _form("core.semantic-rank", data)
    assert filled.is_valid(), filled.errors
    use_case_get("core.semantic-rank").Input.model_validate(filled.raw_input())


def test_the_csv_example_is_a_catalog_the_schema_accepts():
    example = _form("recommendation.personalised").fields["catalog_csv"].example
    assert example.startswith("id,name")
    from pressroom_recommendation.schema import parse_catalog_csv
    assert [p.id for p in parse_catalog_csv(example)] == ["p1", "p2"]


def test_a_hint_that_already_shows_an_example_is_kept_as_written():
    form = _form("recommendation.personalised")
    assert form.fields["customers"].example is None
    assert "e.g. [{" in form.fields["customers"].help_text
    assert _form("marketing.product_description").fields["attributes"].example is None


def test_no_example_and_none_derivable_leaves_the_help_alone():
    form = _form("core.text")
    assert form.fields["seed"].example is None and form.fields["seed"].help_text == ""
    assert form.fields["temperature"].example is None  # a default is its own example (the initial value)


def test_a_structured_field_without_examples_gets_one_built_from_its_schema():
    schema = {
        "$defs": {"Event": {"type": "object", "required": ["product_id", "type", "at"], "properties": {
            "product_id": {"type": "string", "minLength": 1}, "type": {"enum": ["purchase", "view"]},
            "at": {"type": "string", "format": "date-time"}, "note": {"type": "string"}}}},
        "type": "object", "required": ["events"],
        "properties": {"events": {"type": "array", "items": {"$ref": "#/$defs/Event"}}, "top": {"type": "integer", "default": 3}},
    }
    example = schema_example(schema["properties"]["events"], schema["$defs"])
    assert example == [{"product_id": "product id", "type": "purchase", "at": "2024-05-01T10:00:00Z"}]
    form = UseCaseForm(schema=schema)
    assert form.fields["events"].example == '[{"product_id": "product id", "type": "purchase", "at": "2024-05-01T10:00:00Z"}]'
    assert form.fields["top"].example is None


def test_a_string_with_a_pattern_gets_no_guessed_example():
    prop = {"type": "array", "items": {"type": "object", "required": ["sku"],
                                       "properties": {"sku": {"type": "string", "pattern": "^[A-Z]{3}-\\d+$"}}}}
    assert schema_example(prop, {}) is None


def test_the_job_form_page_shows_the_example(client, workspace, editor):
    client.force_login(editor)
    from django.urls import reverse
    page = client.get(reverse("dashboard:job_new", args=[workspace.slug, "core.semantic-rank"])).content.decode()
    assert 'data-testid="example-candidates"' in page and "Canvas city sneaker" in page
