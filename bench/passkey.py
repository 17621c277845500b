"""A passkey in software, for clients without a browser: the proof runs and the API tests.

:class:`SoftPasskey` is a WebAuthn authenticator (Level 3) reduced to what the gateway checks:
an ES256 key pair, ``none`` attestation, user present and verified, and a signature counter of
zero (as synced passkeys send), so several workers may use it at once. Its answers are signed
for real; the gateway verifies them like a browser's. :class:`StepUp` drives the citizen's side
of the API: enrol the passkey (with the demo citizen's TOTP code when a factor is already
enrolled), then a proof for each decision. :func:`seed_passkey` stores one as a registration
would, for the proof runs' provinces (their load processes share it through the credentials).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any, Protocol
from urllib.parse import urlsplit

import cbor2
import pyotp
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from sqlalchemy import Engine

from gateway.factors import repository
from gateway.factors.models import Factor
from gateway.factors.service import PASSKEY
from gateway.parties.repository import citizen_by_username
from gateway.storage.db import unit_of_work

USER_PRESENT_VERIFIED = 0x01 | 0x04
ATTESTED_DATA = 0x40


class Response(Protocol):
    status_code: int

    def json(self) -> Any: ...


class Client(Protocol):
    """What ``httpx.Client`` and Starlette's ``TestClient`` both offer."""

    def post(self, url: str, *, json: Any = ..., headers: Any = ...) -> Any: ...


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass
class SoftPasskey:
    """One credential for the relying party at ``origin`` (its RP ID is the host)."""

    origin: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(16))

    @property
    def rp_id(self) -> str:
        return urlsplit(self.origin).hostname or ""

    @classmethod
    def from_json(cls, origin: str, document: dict[str, str]) -> SoftPasskey:
        key = load_pem_private_key(document["private_key"].encode(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return cls(origin, key, base64.urlsafe_b64decode(document["credential_id"] + "=="))

    def to_json(self) -> dict[str, str]:
        pem = self.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        return {"private_key": pem.decode(), "credential_id": b64url(self.credential_id)}

    def cose_key(self) -> bytes:
        """The public key as COSE_Key (RFC 9053, EC2 P-256, ES256)."""
        numbers = self.key.public_key().public_numbers()
        x, y = numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: x, -3: y})

    def create(self, options: dict[str, Any]) -> dict[str, Any]:
        """The answer of ``navigator.credentials.create`` to ``options``."""
        attested = bytes(16) + len(self.credential_id).to_bytes(2, "big") + self.credential_id
        flags = USER_PRESENT_VERIFIED | ATTESTED_DATA
        auth_data = self._auth_data(flags) + attested + self.cose_key()
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return self._credential(
            {
                "clientDataJSON": b64url(self._client_data("webauthn.create", options)),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            }
        )

    def get(self, options: dict[str, Any]) -> dict[str, Any]:
        """The answer of ``navigator.credentials.get`` to ``options``: a signed assertion."""
        client_data = self._client_data("webauthn.get", options)
        auth_data = self._auth_data(USER_PRESENT_VERIFIED)
        signature = self.key.sign(auth_data + sha256(client_data).digest(), ec.ECDSA(SHA256()))
        return self._credential(
            {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
            }
        )

    def _auth_data(self, flags: int) -> bytes:
        return sha256(self.rp_id.encode()).digest() + bytes([flags]) + bytes(4)

    def _client_data(self, kind: str, options: dict[str, Any]) -> bytes:
        document = {"type": kind, "challenge": options["challenge"], "origin": self.origin}
        return json.dumps({**document, "crossOrigin": False}).encode()

    def _credential(self, response: dict[str, Any]) -> dict[str, Any]:
        identifier = b64url(self.credential_id)
        return {
            "id": identifier,
            "rawId": identifier,
            "type": "public-key",
            "clientExtensionResults": {},
            "response": response,
        }


def seed_passkey(engine: Engine, username: str, passkey: SoftPasskey) -> None:
    """Store ``passkey`` for the citizen ``username`` as a verified registration stores it."""
    with unit_of_work(engine) as session:
        citizen = citizen_by_username(session, username)
        assert citizen is not None
        now = datetime.now(UTC)
        factor = Factor(
            factor_id=f"fa_{secrets.token_urlsafe(16)}",
            citizen_id=citizen.id,
            kind=PASSKEY,
            label="software passkey",
            credential_id=b64url(passkey.credential_id),
            public_key=b64url(passkey.cose_key()),
            created_at=now,
            confirmed_at=now,
        )
        repository.add(session, factor)


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now for ``secret`` (RFC 6238)."""
    return pyotp.TOTP(secret).now()


@dataclass
class StepUp:
    """The citizen's side of the second factor over the API, with one software passkey."""

    client: Client
    headers: dict[str, str]
    passkey: SoftPasskey

    def enrol(self, totp_secret: str | None = None) -> None:
        """Register the passkey; ``totp_secret``: a factor the account already has."""
        body: dict[str, Any] = {}
        if totp_secret is not None:
            body["second_factor"] = self.proof_with_totp("enrol_factor", None, totp_secret)
        ceremony = self._ok(
            self.client.post("/v1/me/factors/passkeys/options", json=body, headers=self.headers)
        )
        registration = {
            "challenge": ceremony["challenge"],
            "credential": self.passkey.create(ceremony["options"]),
        }
        self._ok(
            self.client.post("/v1/me/factors/passkeys", json=registration, headers=self.headers)
        )

    def proof(self, action: str, grant_id: str | None) -> str:
        """A proof of the passkey for one decision."""
        decision = {"action": action, "grant_id": grant_id}
        ceremony = self._ok(
            self.client.post("/v1/me/second-factor/challenges", json=decision, headers=self.headers)
        )
        assertion = {
            "challenge": ceremony["challenge"],
            "credential": self.passkey.get(ceremony["options"]),
        }
        return self._proof({**decision, "passkey": assertion})

    def approve(self, grant_id: str, categories: Sequence[str]) -> None:
        """Approve the requested grant for ``categories`` with a proof of the passkey."""
        body = {"categories": list(categories), "second_factor": self.proof("approve", grant_id)}
        path = f"/v1/me/consents/{grant_id}/approve"
        self._ok(self.client.post(path, json=body, headers=self.headers))

    def proof_with_totp(self, action: str, grant_id: str | None, secret: str) -> str:
        return self._proof({"action": action, "grant_id": grant_id, "totp": totp_code(secret)})

    def _proof(self, body: dict[str, Any]) -> str:
        response = self.client.post("/v1/me/second-factor/proofs", json=body, headers=self.headers)
        proof: str = self._ok(response)["second_factor"]
        return proof

    @staticmethod
    def _ok(response: Response) -> Any:
        if response.status_code not in (200, 201):
            raise AssertionError(f"second factor refused: {response.status_code} {response.json()}")
        return response.json()
