from __future__ import annotations

import pytest

from connector.core.errors import SignatureInvalid
from connector.core.webhook_signature import sign, verify

SECRET = "whsec-test"
BODY = b'{"events":[]}'


def test_a_fresh_signature_verifies():
    header = sign(SECRET, BODY, 1_000)
    assert header.startswith("t=1000,v1=") and len(header.split("v1=")[1]) == 64
    assert verify(SECRET, header, BODY, now=1_100) == 1_000


def test_any_of_several_v1_values_may_match_during_secret_rotation():
    header = sign("old", BODY, 1_000) + "," + sign(SECRET, BODY, 1_000).split(",")[1]
    assert verify(SECRET, header, BODY, now=1_000) == 1_000


@pytest.mark.parametrize("header,now,message", [
    (None, 1_000, "missing"),
    ("v1=abc", 1_000, "t=<unix seconds>"),
    ("t=abc,v1=00", 1_000, "not a number"),
    (sign(SECRET, BODY, 1_000), 1_301, "5-minute tolerance"),
    (sign(SECRET, BODY, 1_000), 699, "5-minute tolerance"),
    (sign("other", BODY, 1_000), 1_000, "does not match"),
    (sign(SECRET, BODY + b" ", 1_000), 1_000, "does not match"),
])
def test_bad_signatures_are_refused_with_a_reason(header, now, message):
    with pytest.raises(SignatureInvalid, match=message):
        verify(SECRET, header, BODY, now=now)
