"""Report issuance (Art. 39 para. 5): a credit subject obtains a signed report of its own file that
a third party - a landlord, an employer, a tender committee - can tell from an edited one.

Issuing is a real-name verified self inquiry (Art. 39 para. 1): it takes the one inquiry path
(:func:`gateway.inquiries.service.inquire`), so it is registered in the audit log before the
report exists, and the subject sees it in the access log with its use (``report:<use>``). The
report is the self view of the chosen categories (all by default) with, for every item, its
name, source (the providing unit) and basis document; what is withheld and why; the subject's
identifier masked (:func:`redaction.masking.mask_id_number`); and the issuance's audit receipt.
It is signed as a JWS, ``typ`` ``credit-report+jwt``, with the gateway's signing key: the JSON
verifies offline with ``/oauth/jwks``. The PDF (:mod:`gateway.reports.pdf`) is rendered from the
signed payload and prints the SHA-256 digest of the JWS, the report number and a short
verification code, so a reader of the paper asks ``GET /v1/reports/{number}/verification``
whether it is genuine, current, withdrawn or superseded - never its content.

A later report for the same use supersedes the earlier; the subject may withdraw a report at any
time (one ``report`` leaf each). A withdrawn report's signed content is deleted; its digest
stays for verifiers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from audit.leaf import EventKind
from consent.clients import CITIZEN_REQUESTER
from consent.errors import InvalidArtefactError
from consent.jws import sign, timestamp, unverified_claims, verify
from consent.keys import PublicKeys
from consent.rfc9068 import AccessToken
from consent.step_up import Action as StepUp
from consent.step_up import Binding
from gateway.archive.service import archive_catalog
from gateway.factors.service import spend_proof
from gateway.inquiries import service as inquiries
from gateway.inquiries.service import InquiryDesk, Statement
from gateway.parties.accounts import acting_account, caller_identifier, caller_subject_key
from gateway.reports import repository
from gateway.reports.errors import ReportNotFound, ReportWithdrawn
from gateway.reports.models import IssuedReport, ReportStatus
from gateway.rights.service import RightsDesk, Step, register
from redaction.catalog import ScopeCategory
from redaction.engine import Action, desensitized
from redaction.identifiers import IdentifierKind, SubjectIdentifier
from redaction.masking import FULL_MASK, mask_id_number
from redaction.policies import ARTICLES, Channel

REPORT_TYP = "credit-report+jwt"
REPORT_PURPOSE = "report:"
"""The purpose of the issuance's self inquiry in the audit log: ``report:<use>``."""
REPORT_VERSION = "1"
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base 32: no I, L, O or U, so a printed code is read back without doubt."""
CODE_LENGTH = 8
NUMBER_PATTERN = r"^R[0-9]{8}-[0-9A-HJKMNP-TV-Z]{8}$"
CODE_PATTERN = r"^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{4}-?[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{4}$"


class ReportUse(StrEnum):
    """What the subject states the report is for."""

    LOAN = "loan"
    BIDDING = "bidding"
    ADMINISTRATIVE_APPROVAL = "administrative_approval"
    EMPLOYMENT = "employment"
    TENANCY = "tenancy"
    OTHER = "other"


@dataclass(frozen=True)
class Issued:
    """A report as its subject reads it: the row, its signed JWS and payload (None once
    withdrawn)."""

    row: IssuedReport
    jws: str | None
    payload: dict[str, Any] | None

    @property
    def code(self) -> str | None:
        verification = (self.payload or {}).get("verification", {})
        code = verification.get("code") if isinstance(verification, dict) else None
        return code if isinstance(code, str) else None


@dataclass(frozen=True)
class Verification:
    """What anyone holding the number and the code learns: never the content."""

    number: str
    status: str
    issued_at: datetime
    valid_until: datetime
    digest: str
    superseded_by: str | None


def issue_report(
    desk: RightsDesk,
    caller: AccessToken,
    use: ReportUse,
    categories: frozenset[ScopeCategory],
    validity: timedelta,
    second_factor: str | None,
) -> Issued:
    """Spend the proof of a second factor verified for issuing a report, register the self
    inquiry, build and sign the report, store it; earlier valid reports for the same use are
    superseded. Without the proof nothing is issued (403, Art. 61(2)): a password obtained by
    someone else must not hand them a signed copy of the file."""
    binding = Binding(caller.subject, caller.jti, StepUp.ISSUE_REPORT)
    spend_proof(desk.session, desk.server, binding, second_factor, desk.now)
    inquiry_desk = InquiryDesk(desk.session, desk.audit_log, desk.keys, desk.now)
    statement = Statement(
        Channel.SELF, caller, None, purpose=REPORT_PURPOSE + use.value, categories=categories
    )
    served = json.loads(inquiries.inquire(inquiry_desk, statement).body)
    identifier = caller_identifier(desk.session, caller, desk.now)
    items, masked_fields = _items(desk, served["items"])
    number, code = _new_number(desk.now), _new_code()
    valid_until = desk.now + validity
    payload = {
        "iss": desk.server.context.issuer,
        "iat": timestamp(desk.now),
        "exp": timestamp(valid_until),
        "jti": number,
        "report_version": REPORT_VERSION,
        "report_number": number,
        "use": use.value,
        "categories": sorted(category.value for category in categories) or ["all"],
        "subject": {"kind": identifier.subject_kind.value, "identifier": masked(identifier)},
        "catalog_version": served["catalog_version"],
        "items": items,
        "withheld": served["redactions"] + masked_fields,
        "audit": served["audit"],
        "verification": {"code": code, "url": verification_url(desk, number)},
    }
    jws = sign(desk.server.keyring, REPORT_TYP, payload)
    row = IssuedReport(
        number=number,
        subject_key=caller_subject_key(desk.session, desk.keys, caller, desk.now),
        citizen_id=acting_account(desk.session, caller, desk.now),
        use=use.value,
        categories=sorted(category.value for category in categories),
        issued_at=desk.now,
        valid_until=valid_until,
        digest=digest(jws),
        code_hash=_code_hash(number, code),
        status=ReportStatus.VALID.value,
        jws=jws,
        leaf_index=served["audit"]["leaf_index"],
        changed_at=desk.now,
    )
    repository.supersede(desk.session, row.subject_key, row.use, row)
    desk.session.add(row)
    desk.session.flush()
    return Issued(row, jws, payload)


def reports_of(desk: RightsDesk, caller: AccessToken) -> list[Issued]:
    key = caller_subject_key(desk.session, desk.keys, caller, desk.now)
    return [_issued(row) for row in repository.reports_of(desk.session, key)]


def report_of(desk: RightsDesk, caller: AccessToken, number: str) -> Issued:
    """One of the caller's own reports; another subject's answers as an unknown one."""
    row = repository.report_by_number(desk.session, number)
    key = caller_subject_key(desk.session, desk.keys, caller, desk.now)
    if row is None or not hmac.compare_digest(row.subject_key, key):
        raise ReportNotFound("no such report")
    return _issued(row)


def signed_report_of(desk: RightsDesk, caller: AccessToken, number: str) -> Issued:
    """A report whose signed content is still held (not withdrawn)."""
    issued = report_of(desk, caller, number)
    if issued.jws is None:
        raise ReportWithdrawn("the report was withdrawn; only its status is verifiable")
    return issued


def withdraw(desk: RightsDesk, caller: AccessToken, number: str) -> Issued:
    """The subject withdraws a report: verifiers are told so, its content is deleted."""
    row = report_of(desk, caller, number).row
    if row.status == ReportStatus.WITHDRAWN:
        return _issued(row)
    register(
        desk,
        Step(
            EventKind.REPORT,
            CITIZEN_REQUESTER,
            "withdrawn",
            row.use,
            row.subject_key,
            None,
            {"report_number": row.number, "digest": row.digest, "step": "withdrawn"},
        ),
    )
    row.status, row.jws, row.changed_at = ReportStatus.WITHDRAWN.value, None, desk.now
    desk.session.add(row)
    desk.session.flush()
    return _issued(row)


def verify_report_code(desk: RightsDesk, number: str, code: str) -> Verification:
    """Whether a report with this number and code was issued here, and its status now."""
    row = repository.report_by_number(desk.session, number)
    expected = row.code_hash if row else _code_hash(number, "0" * CODE_LENGTH)
    if row is None or not hmac.compare_digest(expected, _code_hash(number, code)):
        raise ReportNotFound("no report with this number and verification code")
    status = row.status
    if status == ReportStatus.VALID and row.valid_until <= desk.now:
        status = "expired"
    return Verification(
        row.number, status, row.issued_at, row.valid_until, row.digest, row.superseded_by
    )


def verify_signed_report(token: str, keys: PublicKeys, *, issuer: str) -> dict[str, object]:
    """The payload of a signed report of this gateway; raises ``InvalidArtefactError``."""
    claims = verify(token, keys, REPORT_TYP, InvalidArtefactError)
    if claims.text("iss") != issuer or claims.text("report_version") != REPORT_VERSION:
        raise InvalidArtefactError("not a credit report of this gateway")
    return claims.as_dict()


def digest(jws: str) -> str:
    """The hex SHA-256 of the compact JWS: what the PDF prints and the verification answers."""
    return hashlib.sha256(jws.encode("ascii")).hexdigest()


def masked(identifier: SubjectIdentifier) -> str:
    """The subject's index as a report shows it: an ID number keeps its region and check
    character (no birth date, no gender digit); a credit code is public (Art. 34)."""
    if identifier.kind is IdentifierKind.CREDIT_CODE:
        return identifier.value
    if identifier.kind is IdentifierKind.ID_NUMBER:
        return mask_id_number(identifier.value)
    return FULL_MASK


def verification_url(desk: RightsDesk, number: str) -> str:
    return f"{desk.server.context.issuer}/v1/reports/{number}/verification"


def _items(desk: RightsDesk, items: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
    """Each served item with its catalog name and basis document, desensitized for the third
    parties a report is handed to (Art. 40), and a note of each field masked. ``source`` is
    already the providing unit's registered name (Art. 63)."""
    catalog = archive_catalog()
    bases = repository.bases_of(
        desk.session, ((item["record_id"], item["version"]) for item in items)
    )
    shown, masked = [], []
    for item in items:
        entry = catalog.get(item["item_code"])
        fields = {}
        for name, value in item["fields"].items():
            spec = entry.field(name) if entry else None
            fields[name], reason = desensitized(spec, value) if spec else (value, None)
            if reason is not None:
                masked.append(
                    {
                        "action": Action.MASKED.value,
                        "reason": reason.value,
                        "article": ARTICLES[reason],
                        "record_id": item["record_id"],
                        "item_code": item["item_code"],
                        "version": item["version"],
                        "field": name,
                    }
                )
        shown.append(
            {
                **{name: value for name, value in item.items() if name != "history"},
                "fields": fields,
                "item_name": entry.name.model_dump() if entry else None,
                "basis": bases.get((item["record_id"], item["version"])),
            }
        )
    return shown, masked


def _issued(row: IssuedReport) -> Issued:
    payload = _payload(row.jws) if row.jws else None
    return Issued(row, row.jws, payload)


def _payload(jws: str) -> dict[str, Any]:
    """The payload of a report this gateway stored itself (verified when it was signed)."""
    return unverified_claims(jws, InvalidArtefactError).as_dict()


def _new_number(now: datetime) -> str:
    suffix = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"R{now:%Y%m%d}-{suffix}"


def _new_code() -> str:
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{code[:4]}-{code[4:]}"


def _code_hash(number: str, code: str) -> str:
    normal = code.replace("-", "").upper()
    return hashlib.sha256(f"{number}:{normal}".encode()).hexdigest()
