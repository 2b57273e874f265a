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


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, *, now: float | None = None, window: int = REPLAY_WINDOW_SECONDS) -> bool:
    """What a receiver does (also used by Pressroom's tests)."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > window:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))
