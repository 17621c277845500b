"""The consent artefact: an approved grant as a signed JWT (RFC 7519, JWS compact RFC 7515)
that the establishment and the citizen verify offline with the gateway's JWKS - header
``typ`` ``consent+jwt``, ``alg`` EdDSA, ``kid``; see :mod:`consent.jws` for the allow-list.

Claims: ``iss``, ``iat``, ``jti`` and ``grant_id`` (the grant id), ``client_id`` (the
requesting establishment), ``sub`` (a per-requester pseudonym of the subject, computed by
the gateway - never the raw identifier), ``purpose``, ``categories``, ``written_consents``
(``category``, ``text_version``, ``signed_at``; Art. 62), ``nbf`` / ``exp`` (the validity
window) and ``max_uses`` (Art. 61(2)).

Verification checks the signature, algorithm, ``typ`` and issuer only: the artefact proves
what the subject approved. Whether the grant is still usable (revoked, used up) is known
online only, through the gateway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from consent.errors import IllegalTransitionError, InvalidArtefactError, PseudonymError, Reason
from consent.grants import Grant, WrittenConsent
from consent.jws import Claims, from_timestamp, sign, timestamp, verify
from consent.keys import KeyRing, PublicKeys

CONSENT_TYP = "consent+jwt"
_RAW_IDENTIFIER = re.compile(r"\d{15}|\d{17}[\dXx]|[0-9A-HJ-NPQRTUWXY]{18}")


@dataclass(frozen=True)
class ConsentArtefact:
    """The verified content of a consent artefact."""

    issuer: str
    issued_at: datetime
    grant_id: str
    requester: str
    subject_pseudonym: str
    purpose: str
    categories: frozenset[str]
    written_consents: tuple[WrittenConsent, ...]
    not_before: datetime
    expires_at: datetime
    max_uses: int


def require_pseudonym(value: str) -> str:
    """Refuse an empty value or one shaped like an ID number or unified social credit code."""
    if not value or _RAW_IDENTIFIER.fullmatch(value):
        raise PseudonymError("a signed consent document carries a pseudonym, not an identifier")
    return value


def issue_artefact(
    grant: Grant, keyring: KeyRing, *, issuer: str, subject_pseudonym: str, now: datetime
) -> str:
    """Sign the artefact of an approved grant."""
    if grant.not_before is None or grant.expires_at is None:
        raise IllegalTransitionError(
            "only an approved consent has an artefact", reason=Reason.ILLEGAL_TRANSITION
        )
    claims = {
        "iss": issuer,
        "iat": timestamp(now),
        "jti": grant.grant_id,
        "grant_id": grant.grant_id,
        "client_id": grant.requester,
        "sub": require_pseudonym(subject_pseudonym),
        "purpose": grant.purpose,
        "categories": sorted(grant.granted_categories),
        "written_consents": [consent.as_claim() for consent in grant.written_consents],
        "nbf": timestamp(grant.not_before),
        "exp": timestamp(grant.expires_at),
        "max_uses": grant.max_uses,
    }
    return sign(keyring, CONSENT_TYP, claims)


def verify_artefact(token: str, keys: PublicKeys, *, issuer: str) -> ConsentArtefact:
    """The artefact's content; raises ``InvalidArtefactError`` unless it verifies."""
    claims = verify(token, keys, CONSENT_TYP, InvalidArtefactError)
    if claims.text("iss") != issuer:
        raise InvalidArtefactError("artefact from another issuer")
    return ConsentArtefact(
        issuer=issuer,
        issued_at=from_timestamp(claims.integer("iat")),
        grant_id=claims.text("grant_id"),
        requester=claims.text("client_id"),
        subject_pseudonym=claims.text("sub"),
        purpose=claims.text("purpose"),
        categories=frozenset(claims.texts("categories")),
        written_consents=tuple(_written(entry) for entry in claims.objects("written_consents")),
        not_before=from_timestamp(claims.integer("nbf")),
        expires_at=from_timestamp(claims.integer("exp")),
        max_uses=claims.integer("max_uses"),
    )


def _written(entry: Claims) -> WrittenConsent:
    return WrittenConsent(
        category=entry.text("category"),
        text_version=entry.text("text_version"),
        signed_at=from_timestamp(entry.integer("signed_at")),
    )
