"""Campaign uploads into rows: CSV (a header of the use case's input field names) or JSON
Lines (one input object per line). Parsing never guesses silently: every problem is a
`RowError` with its row number (a CSV's header is line 1, so its first row is row 1 on
line 2; a JSONL file's row n is on line n)."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from pressroom.conf import pressroom_settings
from pressroom.core.errors import InputInvalid
from pressroom.plugins import UseCase

FORMATS = ("csv", "jsonl")


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


class CampaignRowsInvalid(InputInvalid):
    """The upload or some of its rows are invalid: nothing was written. `row_errors` is the
    per-row validation report."""

    code = "campaign_invalid"

    def __init__(self, message: str, row_errors: list[RowError]) -> None:
        shown = row_errors[: pressroom_settings.CAMPAIGN_MAX_REPORTED_ERRORS]
        super().__init__(message, {f"rows.{e.row}.{e.field}": [e.message] for e in shown})
        self.row_errors = row_errors


def upload_format(file_name: str, declared: str | None = None) -> str:
    """csv or jsonl, from an explicit `format` or the file name."""
    if declared:
        if declared not in FORMATS:
            raise InputInvalid("Unknown format.", {"format": [f"One of: {', '.join(FORMATS)}."]})
        return declared
    suffix = file_name.lower().rsplit(".", 1)[-1] if "." in file_name else ""
    if suffix == "csv":
        return "csv"
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    raise InputInvalid("Unknown file type.", {"file": ["Upload a .csv or .jsonl file, or name the format."]})


def decode_upload(data: bytes) -> str:
    limit = pressroom_settings.CAMPAIGN_MAX_UPLOAD_BYTES
    if len(data) > limit:
        raise InputInvalid("File too large.", {"file": [f"{len(data)} bytes is over the limit of {limit}."]})
    try:
        return data.decode("utf-8-sig")  # spreadsheets often write a byte-order mark
    except UnicodeDecodeError as error:
        raise InputInvalid("The file is not UTF-8 text.", {"file": [f"Byte {error.start} is not UTF-8."]}) from None


def rows_from_text(text: str, fmt: str, use_case: UseCase) -> list[dict[str, Any]]:
    rows = _jsonl_rows(text) if fmt == "jsonl" else _csv_rows(text, use_case)
    _check_count(len(rows))
    return rows


def _check_count(count: int) -> None:
    limit = pressroom_settings.CAMPAIGN_MAX_ROWS
    if count == 0:
        raise InputInvalid("The campaign has no rows.", {"rows": ["Give at least one row."]})
    if count > limit:
        raise InputInvalid("Too many rows.", {"rows": [f"{count} rows is over the limit of {limit}."]})


def check_inline_rows(rows: Any) -> list[dict[str, Any]]:
    """Rows given as JSON in a request: a list of objects."""
    if not isinstance(rows, list):
        raise InputInvalid("Rows must be a list.", {"rows": [f"Expected a list of objects, got {type(rows).__name__}."]})
    _check_count(len(rows))
    errors = [RowError(n, "input", f"Expected an object, got {type(row).__name__}.")
              for n, row in enumerate(rows, start=1) if not isinstance(row, dict)]
    if errors:
        raise CampaignRowsInvalid(f"{len(errors)} of {len(rows)} rows are not objects.", errors)
    return rows


# -- JSON Lines ----------------------------------------------------------------------
def _jsonl_rows(text: str) -> list[dict[str, Any]]:
    rows, errors = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            errors.append(RowError(number, "input", f"Not valid JSON: {error.msg} at column {error.colno}."))
            continue
        if not isinstance(value, dict):
            errors.append(RowError(number, "input", f"Expected a JSON object, got {type(value).__name__}."))
            continue
        rows.append(value)
    if errors:
        raise CampaignRowsInvalid(f"{len(errors)} lines of the file are not JSON objects.", errors)
    return rows


# -- CSV -----------------------------------------------------------------------------
def _field_types(use_case: UseCase) -> dict[str, set[str]]:
    """Each input field's JSON types (an optional field has its type and "null")."""
    properties = use_case.input_json_schema().get("properties", {})
    types: dict[str, set[str]] = {}
    for name, schema in properties.items():
        options = schema.get("anyOf", [schema])
        types[name] = {option.get("type", "object" if "$ref" in option else "") for option in options}
    return types


def _csv_rows(text: str, use_case: UseCase) -> list[dict[str, Any]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        table = list(reader)
    except csv.Error as error:
        raise CampaignRowsInvalid("The CSV file is malformed.", [RowError(max(reader.line_num - 1, 0), "input", str(error))]) from None
    table = [line for line in table if any(cell.strip() for cell in line)]
    if not table:
        raise InputInvalid("The campaign has no rows.", {"rows": ["The file is empty."]})
    header = [name.strip() for name in table[0]]
    _check_header(header)
    types = _field_types(use_case)
    rows, errors = [], []
    for number, cells in enumerate(table[1:], start=1):
        if len(cells) != len(header):
            errors.append(RowError(number, "input", f"{len(cells)} cells, but the header has {len(header)} columns."))
            continue
        row, row_errors = _csv_row(number, header, cells, types)
        rows.append(row)
        errors.extend(row_errors)
    if errors:
        raise CampaignRowsInvalid(f"{len({e.row for e in errors})} rows of the file cannot be read.", errors)
    return rows


def _check_header(header: list[str]) -> None:
    blank = [str(i + 1) for i, name in enumerate(header) if not name]
    duplicates = sorted({name for name in header if name and header.count(name) > 1})
    if blank or duplicates:
        problems = ([f"column {', '.join(blank)} has no name"] if blank else []) + \
                   ([f"repeated column {', '.join(duplicates)}"] if duplicates else [])
        raise InputInvalid("The CSV header is invalid.", {"header": ["; ".join(problems) + "."]})


def _csv_row(number: int, header: list[str], cells: list[str], types: dict[str, set[str]]):
    row, errors = {}, []
    for name, cell in zip(header, cells):
        if not cell.strip():
            continue  # an empty cell: the field's default
        try:
            row[name] = _cell_value(cell.strip(), types.get(name, {"string"}))
        except ValueError as error:
            errors.append(RowError(number, name, str(error)))
    return row, errors


def _cell_value(cell: str, types: set[str]) -> Any:
    """A cell as the field wants it. Lists: JSON, or items separated by `;`. Objects:
    JSON, or `name: value` pairs separated by `;`. Numbers and booleans are left to the
    schema's own coercion, so its messages name the problem."""
    if "array" in types:
        if cell.startswith("["):
            return _json_cell(cell, list)
        return [item.strip() for item in cell.split(";") if item.strip()]
    if "object" in types:
        if cell.startswith("{"):
            return _json_cell(cell, dict)
        return _pairs(cell)
    return cell


def _json_cell(cell: str, kind: type) -> Any:
    try:
        value = json.loads(cell)
    except json.JSONDecodeError as error:
        raise ValueError(f"Not valid JSON: {error.msg} at column {error.colno}.") from None
    if not isinstance(value, kind):
        raise ValueError(f"Expected a JSON {'list' if kind is list else 'object'}.")
    return value


def _pairs(cell: str) -> dict[str, str]:
    pairs = {}
    for part in (p for p in cell.split(";") if p.strip()):
        name, separator, value = part.partition(":")
        if not separator or not name.strip():
            raise ValueError(f"Write name: value pairs separated by ';' (or a JSON object), not {part.strip()!r}.")
        pairs[name.strip()] = value.strip()
    return pairs
