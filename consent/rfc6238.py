"""TOTP: time-based one-time passwords (RFC 6238), the second factor without a passkey.

Six digits, 30-second steps, SHA-1 (what every authenticator app implements), a window of one
step either side for clock skew (section 5.2). A code is accepted once: the verifier keeps the
last step it accepted for a factor, and refuses any step not after it - so a code read over
the citizen's shoulder, or replayed from a log, is worth nothing (section 5.2, last paragraph).
"""

from __future__ import annotations

from datetime import datetime
from hmac import compare_digest
from urllib.parse import quote

import pyotp

from consent.errors import Reason, SecondFactorError

PERIOD = 30
DIGITS = 6
WINDOW = 1
SECRET_LENGTH = 32
"""Base32 characters: 160 bits, the HMAC-SHA-1 key length RFC 4226 section 4 recommends."""


def new_secret() -> str:
    return pyotp.random_base32(SECRET_LENGTH)


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app reads (as text or a QR code)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).provisioning_uri(
        name=quote(account, safe=""), issuer_name=issuer
    )


def code_at(secret: str, moment: datetime) -> str:
    """The code an authenticator shows at ``moment``."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).at(moment)


def accepted_step(secret: str, code: str, now: datetime, last_step: int | None) -> int:
    """The time step ``code`` belongs to, if it is within the window of ``now`` and after
    ``last_step``; raises :class:`SecondFactorError` (Art. 61(2)) otherwise."""
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD)
    current = int(now.timestamp()) // PERIOD
    candidate = code.strip()
    for step in range(current - WINDOW, current + WINDOW + 1):
        if compare_digest(totp.generate_otp(step), candidate):
            if last_step is not None and step <= last_step:
                raise SecondFactorError(
                    "this code was already used; wait for the next one",
                    reason=Reason.SECOND_FACTOR_REPLAYED,
                )
            return step
    raise SecondFactorError("the code is not valid now", reason=Reason.SECOND_FACTOR_INVALID)
