"""Signed consent artefacts and receipts: offline verification and its refusals."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from consent.artefact import issue_artefact, require_pseudonym, verify_artefact
from consent.errors import IllegalTransitionError, InvalidArtefactError, PseudonymError
from consent.keys import KeyRing, keys_from_jwks
from consent.lifecycle import revoke
from consent.receipt import Controller, ReceiptSource, ReceiptSubject, issue_receipt, verify_receipt
from tests.consent.factories import (
    CITIZEN,
    CONTEXT,
    NOW,
    REQUESTER,
    RESTRICTED,
    active_grant,
    pending_grant,
    registry,
    resign_as,
    tamper,
)

RING = KeyRing.generate()
ISSUER = CONTEXT.issuer
PSEUDONYM = "psn_3q2-7Yb0cZ1kQ8wE4rT6uI9oP0aS"
JWKS = keys_from_jwks(RING.jwks())
BANK = Controller(
    REQUESTER,
    "Demo Rural Bank",
    "Compliance desk",
    "1 Demo Road, Nanjing",
    "dpo@bank.example",
    "+86-25-0000-0000",
)
SOURCE = ReceiptSource(ISSUER, "citizen channel of the credit consent gateway", f"{ISSUER}/policy")


def artefact() -> str:
    return issue_artefact(active_grant(), RING, issuer=ISSUER, subject_pseudonym=PSEUDONYM, now=NOW)


def test_artefact_round_trips_offline_with_the_jwks() -> None:
    token = artefact()
    assert jwt.get_unverified_header(token) == {
        "alg": "EdDSA",
        "typ": "consent+jwt",
        "kid": RING.current_kid,
    }
    content = verify_artefact(token, JWKS, issuer=ISSUER)
    grant = active_grant()
    assert content.grant_id == grant.grant_id
    assert content.requester == REQUESTER
    assert content.subject_pseudonym == PSEUDONYM
    assert content.purpose == "mortgage_application"
    assert content.categories == grant.granted_categories
    assert content.written_consents == grant.written_consents
    assert (content.not_before, content.expires_at) == (grant.not_before, grant.expires_at)
    assert content.max_uses == 3


def refused(token: str) -> str:
    with pytest.raises(InvalidArtefactError) as error:
        verify_artefact(token, JWKS, issuer=ISSUER)
    assert error.value.to_problem()["reason"] == "invalid_signature"
    return error.value.detail


def test_tampered_artefact_is_refused() -> None:
    assert refused(tamper(artefact(), max_uses=1000)) == "signature or algorithm not accepted"


def test_alg_none_and_hs256_artefacts_are_refused() -> None:
    public_pem = RING.current.public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    assert refused(resign_as(artefact(), "none", None)) == "signature or algorithm not accepted"
    assert (
        refused(resign_as(artefact(), "HS256", public_pem)) == "signature or algorithm not accepted"
    )


def test_other_documents_are_not_artefacts() -> None:
    claims = jwt.decode(artefact(), options={"verify_signature": False})
    for typ in ("at+jwt", "consent-receipt+jwt", "JWT"):
        token = jwt.encode(
            claims, RING.current, algorithm="EdDSA", headers={"kid": RING.current_kid, "typ": typ}
        )
        assert refused(token) == "wrong token type"


def test_artefact_of_another_issuer_or_key_is_refused() -> None:
    with pytest.raises(InvalidArtefactError, match="another issuer"):
        verify_artefact(artefact(), JWKS, issuer="https://other.example")
    other = issue_artefact(
        active_grant(), KeyRing.generate(), issuer=ISSUER, subject_pseudonym=PSEUDONYM, now=NOW
    )
    assert refused(other) == "unknown signing key"


def test_only_approved_grants_have_artefacts() -> None:
    with pytest.raises(IllegalTransitionError):
        issue_artefact(pending_grant(), RING, issuer=ISSUER, subject_pseudonym=PSEUDONYM, now=NOW)


@pytest.mark.parametrize("raw", ["11010519491231002X", "110105194912310", "91320000MA1MXXXX3Q", ""])
def test_raw_identifiers_are_never_signed(raw: str) -> None:
    with pytest.raises(PseudonymError):
        require_pseudonym(raw)
    with pytest.raises(PseudonymError):
        issue_artefact(active_grant(), RING, issuer=ISSUER, subject_pseudonym=raw, now=NOW)


def receipt_of(grant: object) -> tuple[dict[str, object], str]:
    signed = issue_receipt(
        ReceiptSubject(grant, BANK, PSEUDONYM),  # type: ignore[arg-type]
        SOURCE,
        RING,
        purposes=registry(),
        restricted=RESTRICTED,
        now=NOW + timedelta(days=1),
    )
    return signed.receipt, signed.jws


def test_receipt_has_the_kantara_fields_and_verifies() -> None:
    receipt, token = receipt_of(active_grant())
    for field in (
        "version",
        "jurisdiction",
        "consentTimestamp",
        "collectionMethod",
        "consentReceiptID",
        "language",
        "piiPrincipalId",
        "piiControllers",
        "policyUrl",
        "services",
        "sensitive",
        "spiCat",
    ):
        assert field in receipt
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["piiPrincipalId"] == PSEUDONYM
    assert receipt["sensitive"] is True
    assert receipt["spiCat"] == ["income", "real_estate"]
    assert receipt["state"] == "active"
    assert receipt["revocation"] == {
        "method": "the subject revokes in the gateway's citizen channel",
        "revokedAt": None,
    }
    assert len(receipt["writtenConsents"]) == 2  # type: ignore[arg-type]
    assert jwt.get_unverified_header(token)["typ"] == "consent-receipt+jwt"
    verified = verify_receipt(token, JWKS, issuer=ISSUER)
    assert {name: verified[name] for name in receipt} == receipt
    assert verified["jti"] == receipt["consentReceiptID"]


def test_receipt_after_revocation_says_when() -> None:
    revoked = revoke(active_grant(), actor=CITIZEN, now=NOW + timedelta(hours=2)).grant
    receipt, _ = receipt_of(revoked)
    assert receipt["state"] == "revoked"
    assert receipt["revocation"]["revokedAt"] == int((NOW + timedelta(hours=2)).timestamp())  # type: ignore[index]


def test_a_receipt_is_not_an_artefact_nor_the_reverse() -> None:
    _, token = receipt_of(active_grant())
    assert refused(token) == "wrong token type"
    with pytest.raises(InvalidArtefactError):
        verify_receipt(artefact(), JWKS, issuer=ISSUER)
    with pytest.raises(InvalidArtefactError):
        verify_receipt(tamper(token, sensitive=False), JWKS, issuer=ISSUER)


def test_pending_grants_have_no_receipt() -> None:
    with pytest.raises(IllegalTransitionError):
        receipt_of(pending_grant())
