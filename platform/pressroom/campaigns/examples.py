"""What a campaign upload for a use case looks like: its CSV columns and an example file
built from the input schema, written the way `rows.py` reads cells back (lists as
`a; b`, string maps as `name: value; name: value`, anything nested as JSON)."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from pressroom.plugins import UseCase


@dataclass(frozen=True)
class Column:
    name: str
    title: str
    required: bool
    kind: str  # how a cell is written, in words: "text", "list (a; b)", ...
    description: str


def _concrete(prop: dict) -> dict:
    """`X | None` is anyOf [X, null]: describe X."""
    options = [option for option in prop.get("anyOf", [prop]) if option.get("type") != "null"]
    return {**prop, **options[0]} if len(options) == 1 else prop


def _resolve(prop: dict, defs: dict) -> dict:
    ref = prop.get("$ref", "")
    return defs.get(ref.rsplit("/", 1)[-1], {}) if ref else prop


def _kind(prop: dict) -> str:
    kind, items = prop.get("type"), prop.get("items", {})
    if "enum" in prop:
        return "one of: " + ", ".join(map(str, prop["enum"]))
    if kind == "array" and "enum" in items:
        return "list (a; b) of: " + ", ".join(map(str, items["enum"]))
    if kind == "array" and items.get("type") in ("string", "integer", "number"):
        return "list (a; b)"
    if kind == "object" and prop.get("additionalProperties", {}).get("type") == "string":
        return "pairs (name: value; name: value)"
    if kind in ("integer", "number"):
        return "number"
    if kind == "boolean":
        return "true or false"
    if kind == "string":
        return "text"
    return "JSON"


def upload_columns(use_case: UseCase) -> list[Column]:
    schema = use_case.input_json_schema()
    required = set(schema.get("required", ()))
    return [Column(name, prop.get("title", name), name in required, _kind(_concrete(prop)), prop.get("description", ""))
            for name, prop in schema.get("properties", {}).items()]


# -- the example row ---------------------------------------------------------------
def _example_string(prop: dict, hint: str) -> str:
    text = f"Example {hint.lower()}"
    return text[: prop.get("maxLength", len(text))].ljust(prop.get("minLength", 0), "x")


def _example_number(prop: dict) -> int | float:
    low = prop.get("minimum", prop.get("exclusiveMinimum", 0))
    value = max(1, low)
    return value if "maximum" not in prop else min(value, prop["maximum"])


def _example_value(prop: dict, hint: str, defs: dict) -> Any:
    """A value the schema accepts, when the schema alone can tell: its own examples, its
    default, an enum's first choice, or something of the right type and size."""
    prop = _resolve(_concrete(prop), defs)
    if prop.get("examples"):
        return prop["examples"][0]
    if prop.get("default") not in (None, "", [], {}):
        return prop["default"]
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop.get("type")
    if kind == "array":
        count = max(1, prop.get("minItems", 1))
        items = prop.get("items", {})
        if "enum" in items:
            return items["enum"][:count]
        return [_example_value(items, f"{hint} {n}", defs) for n in range(1, count + 1)]
    if kind == "object":
        if isinstance(prop.get("additionalProperties"), dict):
            return {f"{hint.lower()} {n}": "example" for n in range(1, max(1, prop.get("minProperties", 1)) + 1)}
        return _example_object(prop, defs)
    if kind in ("integer", "number"):
        return _example_number(prop)
    if kind == "boolean":
        return False
    if prop.get("format") == "date-time":
        return "2025-01-31T09:00:00Z"
    return _example_string(prop, hint)


def _example_object(schema: dict, defs: dict) -> dict[str, Any]:
    """Required fields get an example; optional ones their default (left out)."""
    required = set(schema.get("required", ()))
    return {name: _example_value(prop, prop.get("title", name), defs)
            for name, prop in schema.get("properties", {}).items() if name in required}


def example_row(use_case: UseCase) -> dict[str, Any]:
    """One input: required fields filled in, optional ones at their schema default (an
    optional field without one is left empty, so the use case applies its own)."""
    schema = use_case.input_json_schema()
    defs, required = schema.get("$defs", {}), set(schema.get("required", ()))
    row = {}
    for name, prop in schema.get("properties", {}).items():
        default = prop.get("default")
        if name in required or prop.get("examples") or default not in (None, "", [], {}):
            row[name] = _example_value(prop, prop.get("title", name), defs)
    return row


def _cell(value: Any) -> str:
    """A value as rows.py reads it back from a cell."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) and ";" not in str(item) for item in value):
        return "; ".join(map(str, value))
    if isinstance(value, dict) and all(isinstance(v, str) and ";" not in v and ":" not in k for k, v in value.items()):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def example_csv(use_case: UseCase) -> str:
    """A header of every input field and one example row."""
    row = example_row(use_case)
    names = [column.name for column in upload_columns(use_case)]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(names)
    writer.writerow([_cell(row[name]) if name in row else "" for name in names])
    return buffer.getvalue()
