"""Webhook signatures, and the receiver's verify(): the library's and the one docs/api.md
tells integrators to copy. Either answers False, never raises, on a header it cannot trust
(an exception there is a 500 in the receiver)."""
import re
import time
from pathlib import Path

import pytest

from pressroom.publishing import signing
from pressroom.publishing.signing import sign, verify

SECRET, BODY = "whsec_1", b'{"event":"ping"}'
API_GUIDE = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_signature_verifies_and_rejects_tampering_and_replays():
    body = b'{"event":"ping"}'
    header = sign("whsec_1", body, timestamp=1_700_000_000)
    assert verify("whsec_1", body, header, now=1_700_000_100)
    assert not verify("whsec_1", body + b" ", header, now=1_700_000_100)
    assert not verify("whsec_2", body, header, now=1_700_000_100)
    assert not verify("whsec_1", body, header, now=1_700_000_000 + 301)  # outside the replay window
    assert not verify("whsec_1", body, "garbage", now=1_700_000_000)


def documented_verify():
    """The verify() of docs/api.md, run as an integrator would paste it."""
    code = re.search(r"```python\n(import hashlib, hmac, time\n.*?def verify\(.*?)```", API_GUIDE.read_text(), re.S)
    assert code, "docs/api.md no longer shows a receiver's verify()"
    namespace: dict = {}
    exec(code.group(1), namespace)  # noqa: S102 - our own documentation
    return namespace["verify"]


def untrusted_headers() -> dict[str, object]:
    now = int(time.time())
    digest = sign(SECRET, BODY, timestamp=now).split("v1=")[1]
    return {
        "missing (None)": None,
        "empty": "",
        "garbage": "garbage",
        "garbage with commas": ",,=,=x,",
        "no timestamp": f"v1={digest}",
        "no signature": f"t={now}",
        "empty signature": f"t={now},v1=",
        "timestamp not a number": f"t=yesterday,v1={digest}",
        "timestamp with a fraction": f"t={now}.5,v1={digest}",
        "timestamp negative": f"t=-{now},v1={digest}",
        "timestamp absurdly long": f"t={'9' * 5000},v1={digest}",
        "timestamp overflowing a float": f"t={'9' * 400},v1={digest}",
        "timestamp in other digits": "t=١٧٠٠٠٠٠٠٠٠,v1=" + digest,
        "signature not ASCII": f"t={now},v1=é{digest[1:]}",
        "wrong signature": f"t={now},v1={'0' * 64}",
        "signature of another secret": sign("whsec_2", BODY, timestamp=now),
        "stale timestamp": sign(SECRET, BODY, timestamp=now - 3600),
        "timestamp from the future": sign(SECRET, BODY, timestamp=now + 3600),
    }


@pytest.mark.parametrize("implementation", ["library", "docs"])
@pytest.mark.parametrize("case", list(untrusted_headers()))
def test_an_untrusted_header_is_false_not_an_exception(implementation, case):
    check = signing.verify if implementation == "library" else documented_verify()
    assert check(SECRET, BODY, untrusted_headers()[case]) is False


@pytest.mark.parametrize("implementation", ["library", "docs"])
def test_a_fresh_matching_signature_is_true(implementation):
    check = signing.verify if implementation == "library" else documented_verify()
    header = sign(SECRET, BODY)
    assert check(SECRET, BODY, header) is True
    assert check(SECRET, BODY, header.replace(",", ", ")) is True  # a space after the comma is still well formed
