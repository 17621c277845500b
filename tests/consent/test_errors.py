"""The consent error families render as RFC 9457 problems with their OAuth code or reason."""

from __future__ import annotations

from consent.errors import (
    InquiryDeniedError,
    InvalidClientError,
    Reason,
    RefusedRequestError,
    ReplayedAssertionError,
)
from problems import GatewayError, InvalidInput, PolicyDenied, Unauthenticated


def test_oauth_errors_carry_the_error_member() -> None:
    problem = ReplayedAssertionError("assertion already used").to_problem()
    assert problem["error"] == "invalid_client"
    assert problem["status"] == 401
    assert problem["type"] == "https://gateway.example/problems/oauth-replayed-assertion"
    assert isinstance(ReplayedAssertionError("x"), InvalidClientError)


def test_consent_errors_are_problems_of_the_right_kind() -> None:
    refused = RefusedRequestError("validity is required", reason=Reason.VALIDITY_MISSING)
    assert isinstance(refused, InvalidInput)
    assert refused.to_problem() == {
        "type": "https://gateway.example/problems/consent-request-refused",
        "title": "Consent request refused",
        "status": 422,
        "detail": "validity is required",
        "article": "Art. 61(2)",
        "reason": "validity_missing",
    }
    denied = InquiryDeniedError("x", reason=Reason.REVOKED, article="Art. 61(2)")
    assert isinstance(denied, PolicyDenied)
    assert denied.status == 403


def test_every_error_is_a_gateway_error() -> None:
    import consent.errors as errors

    classes = [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, Exception)
    ]
    assert classes
    assert all(issubclass(cls, GatewayError) for cls in classes)
    assert issubclass(errors.InvalidArtefactError, Unauthenticated)
