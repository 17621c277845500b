"""Citizens' passwords: argon2id, one error for unknown accounts and wrong passwords."""

from __future__ import annotations

from typing import Literal

import pytest
from argon2 import PasswordHasher, Type

from consent.errors import InvalidGrantError
from consent.passwords import CitizenPasswords

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)


def test_hash_is_argon2id_and_verifies() -> None:
    passwords = CitizenPasswords(CHEAP)
    stored = passwords.hash("correct horse battery staple")
    assert stored.startswith("$argon2id$")
    passwords.verify(stored, "correct horse battery staple")


@pytest.mark.parametrize(
    ("stored", "password"),
    [
        ("known", "wrong password"),
        (None, "correct horse battery staple"),
        ("$argon2id$garbage", "x"),
    ],
    ids=["wrong password", "unknown account", "corrupt hash"],
)
def test_failures_are_indistinguishable(stored: str | None, password: str) -> None:
    passwords = CitizenPasswords(CHEAP)
    if stored == "known":
        stored = passwords.hash("correct horse battery staple")
    with pytest.raises(InvalidGrantError) as refused:
        passwords.verify(stored, password)
    assert refused.value.to_problem() == {
        "type": "https://gateway.example/problems/oauth-invalid-grant",
        "title": "Invalid grant",
        "status": 400,
        "detail": "invalid username or password",
        "error": "invalid_grant",
    }


class SpyHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified.append(str(hash))
        return super().verify(hash, password)


def test_unknown_account_still_runs_a_verification() -> None:
    hasher = SpyHasher()
    with pytest.raises(InvalidGrantError):
        CitizenPasswords(hasher).verify(None, "anything")
    assert len(hasher.verified) == 1
    assert hasher.verified[0].startswith("$argon2id$v=19$m=1024,t=1,p=1$")


def test_rehash_is_needed_when_parameters_change() -> None:
    old = CitizenPasswords(CHEAP).hash("correct horse battery staple")
    stronger = CitizenPasswords(PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1))
    assert stronger.needs_rehash(old)
    assert not CitizenPasswords(CHEAP).needs_rehash(old)


def test_only_argon2id_and_sane_lengths() -> None:
    with pytest.raises(ValueError, match="argon2id"):
        CitizenPasswords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.I))
    with pytest.raises(ValueError, match="characters"):
        CitizenPasswords(CHEAP).hash("")
