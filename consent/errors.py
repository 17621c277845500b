"""Errors of the consent area: OAuth 2.0 errors (RFC 6749 section 5.2, RFC 6750 section 3.1,
RFC 9396 section 5) and consent and channel policy denials (Art. 39, 40, 61(2), 62, 69 of the
regulation).

Two families, both rooted in :class:`problems.GatewayError` so the HTTP layer renders every
one of them as RFC 9457 ``application/problem+json``:

* :class:`OAuthError` carries the OAuth ``error`` code; ``to_problem()`` has an ``error``
  member so OAuth clients find the code where RFC 6749 puts it.
* :class:`ConsentError` carries a machine-readable :class:`Reason`; ``to_problem()`` has a
  ``reason`` member and, for policy denials, the ``article`` applied.

``detail`` strings never name a person, an identifier or a key.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from problems import (
    Conflict,
    GatewayError,
    InvalidInput,
    NotFound,
    PolicyDenied,
    Unauthenticated,
)


class OAuthError(GatewayError):
    """An OAuth 2.0 error response; ``error`` is the registered error code."""

    error: ClassVar[str] = "invalid_request"

    def __init__(self, detail: str, *, article: str | None = None) -> None:
        super().__init__(detail, article=article, reason=self.error, extra={"error": self.error})


class InvalidRequestError(OAuthError):
    status = 400
    title = "Invalid OAuth request"
    slug = "oauth-invalid-request"
    error = "invalid_request"


class InvalidClientError(OAuthError):
    status = 401
    title = "Client authentication failed"
    slug = "oauth-invalid-client"
    error = "invalid_client"


class ReplayedAssertionError(InvalidClientError):
    """Raised by a :class:`consent.stores.JtiStore` for a ``jti`` it has already seen."""

    slug = "oauth-replayed-assertion"


class InvalidGrantError(OAuthError):
    status = 400
    title = "Invalid grant"
    slug = "oauth-invalid-grant"
    error = "invalid_grant"


class UnsupportedGrantTypeError(OAuthError):
    status = 400
    title = "Unsupported grant type"
    slug = "oauth-unsupported-grant-type"
    error = "unsupported_grant_type"


class InvalidScopeError(OAuthError):
    status = 400
    title = "Invalid scope"
    slug = "oauth-invalid-scope"
    error = "invalid_scope"


class InvalidAuthorizationDetailsError(OAuthError):
    status = 400
    title = "Invalid authorization details"
    slug = "oauth-invalid-authorization-details"
    error = "invalid_authorization_details"


class InvalidTokenError(OAuthError):
    status = 401
    title = "Invalid access token"
    slug = "oauth-invalid-token"
    error = "invalid_token"
    response_headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}  # noqa: RUF012


class InsufficientScopeError(OAuthError):
    status = 403
    title = "Insufficient scope"
    slug = "oauth-insufficient-scope"
    error = "insufficient_scope"
    response_headers = {"WWW-Authenticate": 'Bearer error="insufficient_scope"'}  # noqa: RUF012


class InvalidDPoPProofError(OAuthError):
    """A DPoP proof missing, malformed, stale, replayed or not matching (RFC 9449 section 4.3)."""

    status = 400
    title = "Invalid DPoP proof"
    slug = "oauth-invalid-dpop-proof"
    error = "invalid_dpop_proof"


class UseDPoPNonceError(OAuthError):
    """The proof lacks the server's current nonce; retry with ``DPoP-Nonce`` (section 8)."""

    status = 400
    title = "DPoP nonce required"
    slug = "oauth-use-dpop-nonce"
    error = "use_dpop_nonce"

    def __init__(self, detail: str, nonce: str) -> None:
        super().__init__(detail)
        self.headers["DPoP-Nonce"] = nonce


class DPoPChallenge(InvalidTokenError):
    """A resource route's refusal of a DPoP-bound token or of its proof: 401 with a ``DPoP``
    challenge naming the error (RFC 9449 section 7.1, section 9 for the nonce)."""

    slug = "oauth-dpop-refused"
    title = "DPoP-bound access refused"

    def __init__(self, cause: OAuthError, algorithms: tuple[str, ...]) -> None:
        GatewayError.__init__(self, cause.detail, reason=cause.error, extra={"error": cause.error})
        self.headers = {
            **{name: value for name, value in cause.headers.items() if name == "DPoP-Nonce"},
            "WWW-Authenticate": f'DPoP error="{cause.error}", algs="{" ".join(algorithms)}"',
        }


class Reason(StrEnum):
    """Why a consent request, decision or inquiry was refused (the problem's ``reason``)."""

    # Consent request (Art. 61(2): no single lifetime authorization)
    ONE_REQUESTER_REQUIRED = "one_requester_required"
    ONE_SUBJECT_REQUIRED = "one_subject_required"
    AUTO_RENEWAL = "auto_renewal"
    UNKNOWN_PURPOSE = "unknown_purpose"
    SUBJECT_KIND_NOT_ALLOWED = "subject_kind_not_allowed"
    VALIDITY_MISSING = "validity_missing"
    VALIDITY_INVALID = "validity_invalid"
    VALIDITY_EXCEEDS_CAP = "validity_exceeds_cap"
    USES_MISSING = "uses_missing"
    USES_INVALID = "uses_invalid"
    USES_EXCEED_CAP = "uses_exceed_cap"
    CATEGORIES_EMPTY = "categories_empty"
    CATEGORY_WILDCARD = "category_wildcard"
    CATEGORY_NOT_NEEDED = "category_not_needed"
    # Decisions on a grant
    COMPELLED_AUTHORIZATION = "compelled_authorization"
    NOT_SUBJECT = "not_subject"
    ILLEGAL_TRANSITION = "illegal_transition"
    CATEGORY_NOT_REQUESTED = "category_not_requested"
    WRITTEN_CONSENT_MISSING = "written_consent_missing"
    WRITTEN_CONSENT_UNMATCHED = "written_consent_unmatched"
    WRITTEN_CONSENT_TIME = "written_consent_time"
    RAW_IDENTIFIER = "raw_identifier"
    # The second factor of a decision (Art. 61(2): no compelled authorization)
    SECOND_FACTOR_REQUIRED = "second_factor_required"
    SECOND_FACTOR_INVALID = "second_factor_invalid"
    SECOND_FACTOR_REPLAYED = "second_factor_replayed"
    SECOND_FACTOR_MISSING = "second_factor_missing"
    # Authorized inquiries (Art. 39, 61(2), 62)
    OUTSIDE_AUTHORIZATION_DETAILS = "outside_authorization_details"
    NO_GRANT = "no_grant"
    OTHER_REQUESTER = "other_requester"
    OTHER_SUBJECT = "other_subject"
    OTHER_PURPOSE = "other_purpose"
    NOT_ACTIVE = "not_active"
    PAUSED = "paused"
    REVOKED = "revoked"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"
    CATEGORY_NOT_GRANTED = "category_not_granted"
    CONCURRENT_CHANGE = "concurrent_change"
    # The disclosure channels (Art. 39 para. 2, 40, 69 para. 2)
    ROLE_NOT_ADMITTED = "role_not_admitted"
    SCOPE_MISSING = "scope_missing"
    OUTSIDE_SHARING_SCOPE = "outside_sharing_scope"
    DUTY_MISSING = "duty_missing"
    LEGAL_BASIS_MISSING = "legal_basis_missing"
    LEGAL_BASIS_FOREIGN = "legal_basis_foreign"
    LEGAL_BASIS_NOT_IN_FORCE = "legal_basis_not_in_force"
    CASE_REFERENCE_MISSING = "case_reference_missing"
    OUTSIDE_LEGAL_BASIS = "outside_legal_basis"
    # Signed artefacts and receipts
    INVALID_SIGNATURE = "invalid_signature"


class ConsentError(GatewayError):
    """Base of the consent policy family: every instance carries a :class:`Reason`.

    ``answered_as``: the reason the caller is told when it must not learn the precise one (a
    grant of another requester answers as no grant at all); ``reason`` - what the audit log
    registers - stays precise."""

    def __init__(
        self,
        detail: str,
        *,
        reason: Reason,
        article: str | None = None,
        answered_as: Reason | None = None,
    ) -> None:
        shown = answered_as or reason
        super().__init__(detail, article=article, reason=reason, extra={"reason": shown.value})


class RefusedRequestError(ConsentError, InvalidInput):
    """A consent request that amounts to a single lifetime authorization (Art. 61(2))."""

    title = "Consent request refused"
    slug = "consent-request-refused"
    article = "Art. 61(2)"


class CompelledAuthorizationError(ConsentError, PolicyDenied):
    """Someone other than the credit subject tried to decide on a grant (Art. 61(2))."""

    title = "Only the credit subject decides on a consent"
    slug = "compelled-authorization"
    article = "Art. 61(2)"


class SecondFactorError(ConsentError, PolicyDenied):
    """A decision, or a new factor, without a fresh verification of a factor bound to the
    credit subject's own device: a password alone may have been obtained or coerced
    (Art. 61(2))."""

    title = "A fresh second factor of the credit subject is required"
    slug = "second-factor-required"
    article = "Art. 61(2)"


class FactorEnrolmentError(ConsentError, InvalidInput):
    """A factor enrolment that does not verify (a wrong code, a foreign attestation)."""

    title = "Second factor not enrolled"
    slug = "second-factor-enrolment"


class GrantNotFoundError(ConsentError, NotFound):
    """No grant the acting citizen may see (also used when it belongs to someone else)."""

    title = "Consent not found"
    slug = "consent-not-found"
    article = "Art. 61(2)"


class IllegalTransitionError(ConsentError, Conflict):
    """The grant's state does not allow this action."""

    title = "Consent state does not allow this action"
    slug = "consent-illegal-transition"
    article = "Art. 61(2)"


class InvalidDecisionError(ConsentError, InvalidInput):
    """An approval that does not fit the request it answers (Art. 61(2)); a written consent
    that does not match a granted category or the pending request names Art. 62 para. 2."""

    title = "Invalid consent decision"
    slug = "consent-invalid-decision"
    article = "Art. 61(2)"


class WrittenConsentError(ConsentError, PolicyDenied):
    """A restricted category without its separate written consent (Art. 62 para. 2-3)."""

    title = "Written consent required"
    slug = "written-consent-missing"
    article = "Art. 62"


class InquiryDeniedError(ConsentError, PolicyDenied):
    """An authorized inquiry the grant does not cover (Art. 39, 61(2), 62)."""

    title = "Inquiry not authorized"
    slug = "inquiry-denied"


class ChannelDeniedError(ConsentError, PolicyDenied):
    """An inquiry its channel does not admit: another role, no sector scope, no legal basis
    of the agency's own, no case reference, or categories beyond them (Art. 39, 40, 69)."""

    title = "Inquiry not admitted on this channel"
    slug = "channel-denied"


class PseudonymError(ConsentError, InvalidInput):
    """A signed document was about to carry something shaped like a raw identifier."""

    title = "Pseudonym required"
    slug = "consent-pseudonym-required"
    article = "Art. 61(5)"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, reason=Reason.RAW_IDENTIFIER)


class InvalidArtefactError(ConsentError, Unauthenticated):
    """A consent artefact or receipt whose signature or form does not verify."""

    title = "Invalid signed consent document"
    slug = "consent-invalid-artefact"
    article = "Art. 61(2)"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, reason=Reason.INVALID_SIGNATURE)
