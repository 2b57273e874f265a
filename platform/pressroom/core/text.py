"""Small text rules shared by every entry path."""
from __future__ import annotations

from typing import Any


def newlines_normalised(text: str) -> str:
    """CRLF and lone CR become LF: browsers submit textareas with CRLF, and the feed,
    the screening spans and the exports all count characters on `\\n`."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def newlines_normalised_in(value: Any) -> Any:
    """The same, for every string value inside a JSON-like value (keys stay as given:
    rewriting them could merge two of them)."""
    if isinstance(value, str):
        return newlines_normalised(value)
    if isinstance(value, dict):
        return {key: newlines_normalised_in(child) for key, child in value.items()}
    if isinstance(value, list):
        return [newlines_normalised_in(child) for child in value]
    return value
