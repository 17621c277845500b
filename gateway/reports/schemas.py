"""The report API's bodies (Art. 39 para. 5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from gateway.consents.schemas import SecondFactorProof
from gateway.reports.service import Issued, ReportUse, Verification
from gateway.validation import StrictBody
from redaction.catalog import ScopeCategory


class ReportIn(StrictBody):
    """A report of the caller's own file: for a stated use, of chosen categories (none: all)."""

    use: ReportUse
    categories: list[ScopeCategory] = Field(default_factory=list, max_length=len(ScopeCategory))
    second_factor: SecondFactorProof = None


class ReportOut(BaseModel):
    number: str
    status: str = Field(description="valid, withdrawn or superseded")
    use: str
    categories: list[str] = Field(description="The categories chosen; empty: the whole file")
    issued_at: datetime
    valid_until: datetime
    digest: str = Field(description="Hex SHA-256 of the signed report (the compact JWS)")
    superseded_by: str | None
    verification_code: str | None = Field(description="Printed on the PDF; null once withdrawn")
    leaf_index: int = Field(description="The issuance's entry in the audit log")


class ReportsOut(BaseModel):
    reports: list[ReportOut]


class SignedReportOut(BaseModel):
    """The signed report: its JWS (``typ`` credit-report+jwt, verify with /oauth/jwks) and the
    payload it signs."""

    jws: str
    report: dict[str, Any]


class VerificationOut(BaseModel):
    """Whether a report with this number and code was issued here, and its status now; never
    its content."""

    number: str
    genuine: bool = Field(description="Always true: an unknown number or a wrong code is 404")
    status: str = Field(description="valid, expired, withdrawn or superseded")
    issued_at: datetime
    valid_until: datetime
    digest: str = Field(description="Hex SHA-256 of the signed report the PDF prints")
    superseded_by: str | None


def report_out(issued: Issued) -> ReportOut:
    row = issued.row
    return ReportOut(
        number=row.number,
        status=row.status,
        use=row.use,
        categories=row.categories,
        issued_at=row.issued_at,
        valid_until=row.valid_until,
        digest=row.digest,
        superseded_by=row.superseded_by,
        verification_code=issued.code,
        leaf_index=row.leaf_index,
    )


def verification_out(found: Verification) -> VerificationOut:
    return VerificationOut(
        number=found.number,
        genuine=True,
        status=found.status,
        issued_at=found.issued_at,
        valid_until=found.valid_until,
        digest=found.digest,
        superseded_by=found.superseded_by,
    )
