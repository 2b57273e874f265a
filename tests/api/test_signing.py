from pressroom.publishing.signing import sign, verify


def test_signature_verifies_and_rejects_tampering_and_replays():
    body = b'{"event":"ping"}'
    header = sign("whsec_1", body, timestamp=1_700_000_000)
    assert verify("whsec_1", body, header, now=1_700_000_100)
    assert not verify("whsec_1", body + b" ", header, now=1_700_000_100)
    assert not verify("whsec_2", body, header, now=1_700_000_100)
    assert not verify("whsec_1", body, header, now=1_700_000_000 + 301)  # outside the replay window
    assert not verify("whsec_1", body, "garbage", now=1_700_000_000)
