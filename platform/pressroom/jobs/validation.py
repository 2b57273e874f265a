"""Input checks every entry path gets, before a job row exists."""
from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from pressroom.conf import pressroom_settings
from pressroom.core.errors import InputInvalid, UnknownUseCase
from pressroom.plugins import UseCase, use_case_registry


def use_case_get(key: Any) -> UseCase:
    use_case = use_case_registry.get(key) if isinstance(key, str) else None
    if use_case is None:
        known = ", ".join(use_case_registry.keys()) or "none installed"
        raise UnknownUseCase(
            f"Unknown use case {key!r}.", {"use_case": [f"{key!r} is not an installed use case (known: {known})."]}
        )
    return use_case


def _oversized_strings(value: Any, path: str, limit: int) -> dict[str, list[str]]:
    if isinstance(value, str):
        if len(value) > limit:
            return {path or "input": [f"{len(value)} characters is over the limit of {limit}."]}
        if "\x00" in value:  # no database stores it, and no prompt needs it
            return {path or "input": ["Text cannot contain NUL characters."]}
        return {}
    if isinstance(value, dict) and any("\x00" in str(key) for key in value):
        return {path or "input": ["Field names cannot contain NUL characters."]}
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    errors: dict[str, list[str]] = {}
    for key, child in children:
        errors.update(_oversized_strings(child, f"{path}.{key}" if path else str(key), limit))
    return errors


def _check_size(raw_input: dict[str, Any], long_text_fields: tuple[str, ...] = ()) -> None:
    limits = pressroom_settings.LIMITS
    size = len(json.dumps(raw_input, ensure_ascii=False).encode())
    if size > limits["MAX_INPUT_BYTES"]:
        raise InputInvalid(
            "Input too large.", {"input": [f"{size} bytes is over the limit of {limits['MAX_INPUT_BYTES']}."]}
        )
    limited = {key: value for key, value in raw_input.items() if key not in long_text_fields}
    oversized = _oversized_strings(limited, "", limits["MAX_PROMPT_CHARS"])
    if oversized:
        raise InputInvalid("Prompt too long.", oversized)


def _field_errors(error: ValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for item in error.errors(include_url=False):
        path = ".".join(str(part) for part in item["loc"]) or "input"
        errors.setdefault(path, []).append(item["msg"])
    return errors


def job_input_validate(*, use_case: UseCase, raw_input: Any) -> dict[str, Any]:
    """Validate against the use case's schema and the platform limits; return the
    normalised input (defaults filled in) that the job stores."""
    if not isinstance(raw_input, dict):
        raise InputInvalid("Input must be a JSON object.", {"input": [f"Expected an object, got {type(raw_input).__name__}."]})
    _check_size(raw_input, use_case.long_text_fields)
    try:
        data = use_case.Input.model_validate(raw_input)
    except ValidationError as error:
        raise InputInvalid(f"Invalid input for {use_case.key}.", _field_errors(error)) from None
    validated = data.model_dump(mode="json")
    from pressroom.jobs.timing import job_time_check

    job_time_check(use_case=use_case, validated=validated)
    return validated
