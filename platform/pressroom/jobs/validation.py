"""Input checks every entry path gets, before a job row exists."""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from pressroom.conf import pressroom_settings
from pressroom.core.errors import InputInvalid, UnknownUseCase
from pressroom.core.text import newlines_normalised_in
from pressroom.plugins import UseCase, use_case_registry


def use_case_get(key: Any) -> UseCase:
    use_case = use_case_registry.get(key) if isinstance(key, str) else None
    if use_case is None:
        known = ", ".join(use_case_registry.keys()) or "none installed"
        raise UnknownUseCase(
            f"Unknown use case {key!r}.", {"use_case": [f"{key!r} is not an installed use case (known: {known})."]}
        )
    return use_case


# pydantic's wording before a validator's own message; the message alone reads better.
VALIDATOR_PREFIXES = ("Value error, ", "Assertion failed, ")


def _too_long(length: int, limit: int, own_limit: bool) -> str:
    whose = "this field's limit" if own_limit else "the limit"
    return f"{length} characters is over {whose} of {limit}."


def _oversized_strings(value: Any, path: str, limit: int, own_limit: bool = False) -> dict[str, list[str]]:
    if isinstance(value, str):
        if len(value) > limit:
            return {path or "input": [_too_long(len(value), limit, own_limit)]}
        if "\x00" in value:  # no database stores it, and no prompt needs it
            return {path or "input": ["Text cannot contain NUL characters."]}
        return {}
    if isinstance(value, dict) and any("\x00" in str(key) for key in value):
        return {path or "input": ["Field names cannot contain NUL characters."]}
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    errors: dict[str, list[str]] = {}
    for key, child in children:
        errors.update(_oversized_strings(child, f"{path}.{key}" if path else str(key), limit, own_limit))
    return errors


def _own_max_length(prop: dict[str, Any]) -> int | None:
    """A field's own `max_length` (a string, or a list of strings), `X | None` unwrapped."""
    for option in [prop, *prop.get("anyOf", ())]:
        for schema in (option, option.get("items") or {}):
            if isinstance(schema.get("maxLength"), int):
                return schema["maxLength"]
    return None


@lru_cache(maxsize=256)
def _own_max_lengths(input_model: type) -> dict[str, int | None]:
    """Each field's own max_length, read from the input model's JSON schema once per model:
    building the schema cost about 2 ms of every job submission."""
    properties = input_model.model_json_schema().get("properties", {})
    return {name: _own_max_length(prop) for name, prop in properties.items()}


def _string_limits(use_case: UseCase, fields: Any) -> dict[str, tuple[int, bool]]:
    """Per top-level field: the limit its strings are held to and whether it is the field's
    own (smaller than the platform's), so a message names the limit that really applies."""
    platform_limit = pressroom_settings.LIMITS["MAX_PROMPT_CHARS"]
    own_lengths = _own_max_lengths(use_case.Input)
    limits = {}
    for name in fields:
        if name in use_case.long_text_fields:
            continue  # bound by MAX_INPUT_BYTES and the schema alone
        own = own_lengths.get(name) if isinstance(name, str) else None
        limits[name] = (own, True) if own is not None and own < platform_limit else (platform_limit, False)
    return limits


def _check_size(raw_input: dict[str, Any], use_case: UseCase) -> None:
    limits = pressroom_settings.LIMITS
    size = len(json.dumps(raw_input, ensure_ascii=False).encode())
    if size > limits["MAX_INPUT_BYTES"]:
        raise InputInvalid(
            "Input too large.", {"input": [f"{size} bytes is over the limit of {limits['MAX_INPUT_BYTES']}."]}
        )
    oversized: dict[str, list[str]] = {}
    for name, (limit, own_limit) in _string_limits(use_case, raw_input).items():
        oversized.update(_oversized_strings(raw_input[name], str(name), limit, own_limit))
    if oversized:
        raise InputInvalid("Prompt too long.", oversized)


def _plain_message(item: dict[str, Any]) -> str:
    """pydantic's message in plain words: no validator prefix, and a too-long string says
    the same as the size check does."""
    if item["type"] == "string_too_long" and isinstance(item.get("input"), str):
        return _too_long(len(item["input"]), item["ctx"]["max_length"], own_limit=True)
    message = item["msg"]
    for prefix in VALIDATOR_PREFIXES:
        message = message.removeprefix(prefix)
    return message[:1].upper() + message[1:]


def _field_errors(error: ValidationError) -> dict[str, list[str]]:
    """One message per field: the first problem pydantic found there."""
    errors: dict[str, list[str]] = {}
    for item in error.errors(include_url=False):
        path = ".".join(str(part) for part in item["loc"]) or "input"
        errors.setdefault(path, [_plain_message(item)])
    return errors


def job_input_validate(*, use_case: UseCase, raw_input: Any) -> dict[str, Any]:
    """Validate against the use case's schema and the platform limits; return the
    normalised input (defaults filled in) that the job stores."""
    if not isinstance(raw_input, dict):
        raise InputInvalid("Input must be a JSON object.", {"input": [f"Expected an object, got {type(raw_input).__name__}."]})
    raw_input = newlines_normalised_in(raw_input)  # browsers send CRLF; every stored text counts on \n
    _check_size(raw_input, use_case)
    try:
        data = use_case.Input.model_validate(raw_input)
    except ValidationError as error:
        raise InputInvalid(f"Invalid input for {use_case.key}.", _field_errors(error)) from None
    validated = data.model_dump(mode="json")
    from pressroom.jobs.timing import job_time_check

    job_time_check(use_case=use_case, validated=validated)
    return validated
