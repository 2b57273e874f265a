"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>".

Header: `X-Pressroom-Signature: t=<unix seconds>,v1=<hex digest>`. A receiver recomputes
the digest with the endpoint's secret, compares in constant time, and refuses timestamps
older than its replay window (5 minutes is a good default).
"""
from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Pressroom-Signature"
REPLAY_WINDOW_SECONDS = 300
MAX_TIMESTAMP_DIGITS = 12  # unix seconds until the year 33658; longer is garbage, not a time


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str | None, *, now: float | None = None,
           window: int = REPLAY_WINDOW_SECONDS) -> bool:
    """What a receiver does (docs/api.md shows the same code; Pressroom's tests use this one).
    True only for a fresh, matching signature: a missing or malformed header is False, never
    an exception, so a receiver answers 401 instead of 500."""
    fields = dict(part.strip().partition("=")[::2] for part in (header or "").split(","))
    timestamp, signature = fields.get("t", ""), fields.get("v1", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS) or not signature:
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > window:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    # As bytes: compare_digest refuses str with non-ASCII characters (TypeError) rather than answer.
    return hmac.compare_digest(expected.encode(), signature.encode())
