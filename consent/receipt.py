"""Consent receipts for the credit subject, after the Kantara Initiative Consent Receipt
Specification v1.1 (field names and ``version`` ``KI-CR-v1.1.0``), with the consent record
fields of ISO/IEC TS 27560 that v1.1 lacks as extension members: ``grantId``, ``state``,
``validity``, ``maxUses``, ``writtenConsents`` (Art. 62) and ``revocation``.

The receipt is returned as JSON and signed as a JWS compact token whose payload is the
receipt plus ``iss``, ``iat`` and ``jti`` (the receipt id), header ``typ``
``consent-receipt+jwt`` - a distinct type, so a receipt is never accepted as an artefact
or a token. The controller is the establishment; the collection channel is the gateway's
own authenticated citizen channel; the principal is named by the per-requester pseudonym.
A receipt is issued when a consent is approved and again when it ends (revoked, expired,
exhausted), so the latest receipt tells how it terminated.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from consent.artefact import require_pseudonym
from consent.errors import IllegalTransitionError, InvalidArtefactError, Reason
from consent.grants import Grant
from consent.jws import sign, timestamp, verify
from consent.keys import KeyRing, PublicKeys
from consent.lifecycle import effective_state
from consent.purposes import Purpose, PurposeRegistry

RECEIPT_TYP = "consent-receipt+jwt"
RECEIPT_VERSION = "KI-CR-v1.1.0"
TERMINATION = (
    "Ends at the end of the validity window or when the maximum number of inquiries is "
    "reached; the subject may revoke it at any time in the gateway."
)


@dataclass(frozen=True)
class Controller:
    """The establishment as PII controller (Kantara v1.1 ``piiControllers`` entry)."""

    client_id: str
    name: str
    contact: str
    address: str
    email: str
    phone: str


@dataclass(frozen=True)
class ReceiptSource:
    """The gateway as the collection channel."""

    issuer: str
    collection_method: str
    policy_url: str
    jurisdiction: str = "CN-JS"
    language: str = "zh-CN"


@dataclass(frozen=True)
class SignedReceipt:
    receipt: dict[str, object]
    jws: str


@dataclass(frozen=True)
class ReceiptSubject:
    """What the receipt is about: the grant, its establishment, the subject's pseudonym."""

    grant: Grant
    controller: Controller
    subject_pseudonym: str


def issue_receipt(
    subject: ReceiptSubject,
    source: ReceiptSource,
    keyring: KeyRing,
    *,
    purposes: PurposeRegistry,
    restricted: frozenset[str],
    now: datetime,
) -> SignedReceipt:
    """Build and sign the receipt of an approved (possibly since ended) grant."""
    purpose = purposes.get(subject.grant.purpose)
    receipt = _receipt(subject, purpose, source, restricted, now)
    claims = {**receipt, "iss": source.issuer, "iat": timestamp(now)}
    claims["jti"] = receipt["consentReceiptID"]
    return SignedReceipt(receipt, sign(keyring, RECEIPT_TYP, claims))


def verify_receipt(token: str, keys: PublicKeys, *, issuer: str) -> dict[str, object]:
    """The signed receipt's payload; raises ``InvalidArtefactError`` unless it verifies."""
    claims = verify(token, keys, RECEIPT_TYP, InvalidArtefactError)
    if claims.text("iss") != issuer or claims.text("version") != RECEIPT_VERSION:
        raise InvalidArtefactError("not a receipt of this gateway")
    return claims.as_dict()


def _receipt(
    subject: ReceiptSubject,
    purpose: Purpose,
    source: ReceiptSource,
    restricted: frozenset[str],
    now: datetime,
) -> dict[str, object]:
    grant, controller = subject.grant, subject.controller
    if grant.not_before is None or grant.expires_at is None:
        raise IllegalTransitionError(
            "only an approved consent has a receipt", reason=Reason.ILLEGAL_TRANSITION
        )
    sensitive = sorted(grant.granted_categories & restricted)
    return {
        "version": RECEIPT_VERSION,
        "jurisdiction": source.jurisdiction,
        "consentTimestamp": timestamp(grant.not_before),
        "collectionMethod": source.collection_method,
        "consentReceiptID": "cr_" + secrets.token_urlsafe(16),
        "language": source.language,
        "piiPrincipalId": require_pseudonym(subject.subject_pseudonym),
        "piiControllers": [
            {
                "piiController": controller.name,
                "piiControllerId": controller.client_id,
                "onBehalf": False,
                "contact": controller.contact,
                "address": controller.address,
                "email": controller.email,
                "phone": controller.phone,
            }
        ],
        "policyUrl": source.policy_url,
        "services": [_service(purpose, grant.granted_categories)],
        "sensitive": bool(sensitive),
        "spiCat": sensitive,
        "grantId": grant.grant_id,
        "state": effective_state(grant, now).value,
        "validity": {
            "notBefore": timestamp(grant.not_before),
            "expires": timestamp(grant.expires_at),
        },
        "maxUses": grant.max_uses,
        "writtenConsents": [consent.as_claim() for consent in grant.written_consents],
        "revocation": {
            "method": "the subject revokes in the gateway's citizen channel",
            "revokedAt": None if grant.revoked_at is None else timestamp(grant.revoked_at),
        },
    }


def _service(purpose: Purpose, categories: frozenset[str]) -> dict[str, object]:
    return {
        "service": "authorized credit inquiry (Art. 39)",
        "purposes": [
            {
                "purpose": purpose.description.zh,
                "purposeEn": purpose.description.en,
                "purposeCategory": [purpose.code],
                "consentType": "EXPLICIT",
                "piiCategory": sorted(categories),
                "primaryPurpose": True,
                "termination": TERMINATION,
                "thirdPartyDisclosure": False,
            }
        ],
    }
