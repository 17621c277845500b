"""TOTP (RFC 6238): the test vectors of Appendix B, the window of one step, each code once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent.errors import Reason, SecondFactorError
from consent.rfc6238 import PERIOD, accepted_step, code_at, new_secret, provisioning_uri

RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890" (SHA-1)
VECTORS = [  # Appendix B, SHA-1, the last six of the eight digits
    (59, "287082"),
    (1111111109, "081804"),
    (1111111111, "050471"),
    (1234567890, "005924"),
    (2000000000, "279037"),
    (20000000000, "353130"),
]


@pytest.mark.parametrize(("seconds", "code"), VECTORS)
def test_the_codes_of_appendix_b(seconds: int, code: str) -> None:
    moment = datetime.fromtimestamp(seconds, UTC)
    assert code_at(RFC_SECRET, moment) == code
    assert accepted_step(RFC_SECRET, code, moment, None) == seconds // PERIOD


@given(st.integers(min_value=4, max_value=10**9))
def test_one_step_either_side_is_accepted_and_no_more(seconds: int) -> None:
    now = datetime.fromtimestamp(seconds * PERIOD + 7, UTC)
    step = timedelta(seconds=PERIOD)
    for offset in (-1, 0, 1):
        assert accepted_step(RFC_SECRET, code_at(RFC_SECRET, now + offset * step), now, None) == (
            seconds + offset
        )
    for offset in (-3, 3):
        code = code_at(RFC_SECRET, now + offset * step)
        if code in {code_at(RFC_SECRET, now + k * step) for k in (-1, 0, 1)}:
            continue  # a six-digit collision inside the window, one in a million
        with pytest.raises(SecondFactorError) as refused:
            accepted_step(RFC_SECRET, code, now, None)
        assert refused.value.reason == Reason.SECOND_FACTOR_INVALID


def test_a_code_is_accepted_once_and_never_an_earlier_one() -> None:
    now = datetime(2026, 12, 2, 8, 0, 5, tzinfo=UTC)
    step = accepted_step(RFC_SECRET, code_at(RFC_SECRET, now), now, None)
    for earlier in (0, -1):
        code = code_at(RFC_SECRET, now + timedelta(seconds=earlier * PERIOD))
        with pytest.raises(SecondFactorError) as refused:
            accepted_step(RFC_SECRET, code, now, step)
        assert refused.value.reason == Reason.SECOND_FACTOR_REPLAYED
        assert refused.value.to_problem()["article"] == "Art. 61(2)"
    later = code_at(RFC_SECRET, now + timedelta(seconds=PERIOD))
    assert accepted_step(RFC_SECRET, later, now, step) == step + 1


def test_secrets_are_160_bits_and_the_uri_names_the_issuer() -> None:
    secret = new_secret()
    assert len(secret) == 32 and secret != new_secret()
    uri = provisioning_uri(secret, "zhang.wei", "Credit Consent Gateway")
    assert uri.startswith("otpauth://totp/Credit%20Consent%20Gateway:zhang.wei?")
    assert f"secret={secret}" in uri and "issuer=Credit%20Consent%20Gateway" in uri
