"""Parties beyond the demo's for the proof tests: another establishment, another providing unit
and another citizen, each able to call the API as itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consent.clients import Role
from consent.keys import public_jwk
from consent.passwords import CitizenPasswords
from gateway.demo import demo_id_number, private_jwk
from gateway.parties.models import Citizen
from gateway.parties.service import Registration, register_party
from gateway.storage.db import unit_of_work
from tests.gateway.inquiries.factories import World

OTHER_CITIZEN_ID_NUMBER = demo_id_number("320106", "19791105", "052")


@dataclass(frozen=True)
class OtherParties:
    """Bearer headers of the parties that must never reach the demo personas' objects."""

    establishment: dict[str, str]
    provider: dict[str, str]
    citizen: dict[str, str]
    citizen_id_number: str


def other_parties(world: World) -> OtherParties:
    """Register them in the world's gateway (once per world) and sign each in."""
    if "other-provider" not in world.personas:
        world.personas["other-provider"] = _register_provider(world)
        world.personas["other-bank"] = world.flow.register_establishment()
        _add_citizen(world, "li.na", OTHER_CITIZEN_ID_NUMBER, "another-password-42")
    form = {"username": "li.na", "password": "another-password-42"}
    citizen = world.client.post("/v1/me/token", data=form).json()["access_token"]
    return OtherParties(
        world.headers("other-bank"),
        world.headers("other-provider"),
        {"Authorization": f"Bearer {citizen}"},
        OTHER_CITIZEN_ID_NUMBER,
    )


def _register_provider(world: World) -> dict[str, Any]:
    key = Ed25519PrivateKey.generate()
    registration = Registration(
        role=Role.PROVIDER,
        name="Demo City Tax Bureau",
        client_id="test-other-provider",
        jwks=[public_jwk(key.public_key())],
    )
    with unit_of_work(world.flow.engine) as session:
        register_party(session, registration)
    return {"client_id": registration.client_id, "private_jwk": private_jwk(key)}


def _add_citizen(world: World, username: str, id_number: str, password: str) -> None:
    with unit_of_work(world.flow.engine) as session:
        session.add(
            Citizen(
                username=username,
                id_number=id_number,
                password_hash=CitizenPasswords().hash(password),
                real_name_verified=True,
            )
        )
