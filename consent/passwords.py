"""Citizens' passwords for the real-name verified channel (Art. 39): argon2id hashes
(RFC 9106; argon2-cffi's default parameters are the RFC 9106 low-memory profile).

:meth:`CitizenPasswords.verify` raises ``invalid_grant`` with the same detail whether the
account is unknown or the password wrong, and for an unknown account it still verifies the
password against a dummy hash of the same parameters, so the time taken does not reveal
whether an account exists.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import Argon2Error, InvalidHashError

from consent.errors import InvalidGrantError

MAX_PASSWORD_LENGTH = 1024


class CitizenPasswords:
    """Hash and verify citizens' passwords with one argon2id parameter set."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher(type=Type.ID)
        if self._hasher.type is not Type.ID:
            raise ValueError("citizens' passwords are hashed with argon2id")
        self._dummy = self._hasher.hash(secrets.token_urlsafe(32))

    def hash(self, password: str) -> str:
        if not password or len(password) > MAX_PASSWORD_LENGTH:
            raise ValueError(f"a password has 1 to {MAX_PASSWORD_LENGTH} characters")
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> None:
        """Raise ``InvalidGrantError`` unless ``password`` matches ``stored``.

        ``stored`` is ``None`` for an unknown account: the dummy hash is verified instead.
        """
        try:
            self._hasher.verify(stored or self._dummy, password[:MAX_PASSWORD_LENGTH])
        except (Argon2Error, InvalidHashError) as exc:
            raise InvalidGrantError("invalid username or password") from exc
        if stored is None:
            raise InvalidGrantError("invalid username or password")

    def needs_rehash(self, stored: str) -> bool:
        """Whether ``stored`` was made with other parameters (rehash after a login)."""
        return self._hasher.check_needs_rehash(stored)
