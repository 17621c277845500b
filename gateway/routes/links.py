"""The consent's way through the API as OpenAPI links (OpenAPI 3.1 section 4.8.20): an
establishment requests a consent, the citizen approves it, the establishment inquires within
it, the citizen revokes it - each step naming the grant the one before returned. Clients read
them as documentation; the stateful fuzzing (``tests/gateway/proof/test_fuzz.py``) walks them.
"""

from __future__ import annotations

from typing import Any

from gateway.openapi_doc import link

REQUEST = "/v1/consent-requests"
APPROVE = "/v1/me/consents/{grant_id}/approve"
INQUIRE = "/v1/inquiries/authorized"
REVOKE = "/v1/me/consents/{grant_id}/revoke"
GRANT_ID = "$response.body#/grant_id"

_APPROVE = link(
    "POST",
    APPROVE,
    "The citizen approves the requested consent",
    parameters={"path.grant_id": GRANT_ID},
    body={"categories": "$request.body#/categories"},
)
_INQUIRE = link(
    "POST",
    INQUIRE,
    "The establishment inquires within the consent",
    body={"grant_id": GRANT_ID, "purpose": "$response.body#/purpose"},
)
_REVOKE = link(
    "POST",
    REVOKE,
    "The citizen revokes the consent; the next inquiry is refused",
    parameters={"path.grant_id": GRANT_ID},
)


def _links(status: int, **links: dict[str, object]) -> dict[int | str, dict[str, Any]]:
    return {status: {"links": links}}


REQUESTED = _links(201, ApproveConsent=_APPROVE)
APPROVED = _links(200, InquireWithinConsent=_INQUIRE, RevokeConsent=_REVOKE)
INQUIRED = _links(200, RevokeConsent=_REVOKE)
REVOKED = _links(200, InquireAfterRevocation=_INQUIRE)
