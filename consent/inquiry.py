"""Authorized inquiries (Art. 39 para. 2): an establishment reads a subject's credit
information only within an active grant - same requester, subject and purpose, categories
granted, within the validity window and the maximum number of uses (Art. 61(2)); restricted
categories only with the subject's written consent (Art. 62 para. 2-3).

Denials, in the order they are checked (the first to apply is raised). A grant of another
establishment is answered exactly as a grant that does not exist - ``no_grant``, Art. 39, the
same detail - so a requester learns nothing of grants that are not its own, not even that they
exist; the audit log registers the precise ``other_requester``:

=================================  =============  ================================================
reason                             article        the inquiry...
=================================  =============  ================================================
``outside_authorization_details``  Art. 61(2)     names a grant its access token's RFC 9396
                                                  ``authorization_details`` do not name
``no_grant``                       Art. 39        names no grant that exists
``other_requester``                (Art. 39)      is made by another establishment (answered
                                                  as ``no_grant``)
``other_subject``                  Art. 61(2)     is about another subject
``other_purpose``                  Art. 61(2)     states another purpose
``not_active``                     Art. 61(2)     uses a pending or rejected grant
``paused``                         Art. 61(2)     uses a grant the subject paused
``revoked``                        Art. 61(2)     uses a revoked grant
``expired``                        Art. 61(2)     is outside the validity window
``exhausted``                      Art. 61(2)     exceeds the maximum number of uses
``categories_empty``               Art. 61(2)     asks for no category
``category_not_granted``           Art. 61(2)/62  asks for a category not granted (Art. 62 when
                                                  it is restricted, or lacks its written consent)
=================================  =============  ================================================

:func:`check_inquiry` is the pure rule; :func:`authorize_inquiry` applies it and then counts
the use atomically through :meth:`consent.stores.GrantStore.consume_use` (:func:`count_use`,
which a caller that checked the grant earlier may also call on its own; :func:`count_uses`
counts several inquiries' uses as it would one after the other, in fewer statements).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from consent.errors import InquiryDeniedError, Reason
from consent.grants import Grant, GrantState
from consent.lifecycle import effective_state
from consent.stores import GrantStore

NO_AUTHORIZATION = "Art. 39"
UNAUTHORIZED = "Art. 61(2)"
RESTRICTED = "Art. 62"
NO_GRANT = "no consent covers this inquiry"

_STATE_DENIALS: Mapping[GrantState, Reason] = {
    GrantState.PENDING: Reason.NOT_ACTIVE,
    GrantState.REJECTED: Reason.NOT_ACTIVE,
    GrantState.PAUSED: Reason.PAUSED,
    GrantState.REVOKED: Reason.REVOKED,
    GrantState.EXPIRED: Reason.EXPIRED,
    GrantState.EXHAUSTED: Reason.EXHAUSTED,
}


@dataclass(frozen=True)
class Inquiry:
    """An authorized inquiry as the establishment makes it."""

    grant_id: str
    requester: str
    subject_key: str
    purpose: str
    categories: frozenset[str]
    token_grants: frozenset[str] | None = None
    """The grants the access token is limited to by its ``authorization_details`` (RFC 9396);
    None: the token names none, and its scope covers every grant of the requester."""


def check_inquiry(
    grant: Grant | None, inquiry: Inquiry, *, now: datetime, restricted: frozenset[str]
) -> Grant:
    """Raise the first denial that applies; return the grant when the inquiry is covered."""
    if inquiry.token_grants is not None and inquiry.grant_id not in inquiry.token_grants:
        _deny(
            "the access token's authorization_details do not name this grant",
            Reason.OUTSIDE_AUTHORIZATION_DETAILS,
        )
    if grant is None or grant.grant_id != inquiry.grant_id:
        _deny(NO_GRANT, Reason.NO_GRANT, NO_AUTHORIZATION)
    if grant.requester != inquiry.requester:
        _deny(NO_GRANT, Reason.OTHER_REQUESTER, NO_AUTHORIZATION, answered_as=Reason.NO_GRANT)
    for matches, reason in (
        (grant.subject_key == inquiry.subject_key, Reason.OTHER_SUBJECT),
        (grant.purpose == inquiry.purpose, Reason.OTHER_PURPOSE),
    ):
        if not matches:
            _deny(f"the consent does not cover this inquiry ({reason.value})", reason)
    state = effective_state(grant, now)
    if state is not GrantState.ACTIVE or grant.not_before is None or now < grant.not_before:
        _deny(
            f"the consent is not usable ({state.value})",
            _STATE_DENIALS.get(state, Reason.NOT_ACTIVE),
        )
    _check_categories(grant, inquiry.categories, restricted)
    return grant


def authorize_inquiry(
    grants: GrantStore, inquiry: Inquiry, *, now: datetime, restricted: frozenset[str]
) -> int:
    """Check the inquiry and count one use; return the uses remaining after it.

    When the atomic count fails because the grant changed after it was read, the grant is
    read again and checked so the denial names what changed; if it still looks usable the
    inquiry is denied anyway (fail closed).
    """
    check_inquiry(grants.get(inquiry.grant_id), inquiry, now=now, restricted=restricted)
    return count_use(grants, inquiry, now=now, restricted=restricted)


def count_use(
    grants: GrantStore, inquiry: Inquiry, *, now: datetime, restricted: frozenset[str]
) -> int:
    """Count one use of an inquiry :func:`check_inquiry` allowed; return the uses remaining.

    Denied, naming what changed, when the grant changed since it was checked (fail closed).
    """
    remaining = grants.consume_use(inquiry.grant_id, now)
    if remaining is None:
        check_inquiry(grants.get(inquiry.grant_id), inquiry, now=now, restricted=restricted)
        _deny("the consent changed during the inquiry", Reason.CONCURRENT_CHANGE)
    return remaining


def count_uses(
    grants: GrantStore,
    uses: Sequence[tuple[Inquiry, datetime]],
    *,
    restricted: frozenset[str],
) -> list[InquiryDeniedError | None]:
    """Count the uses of inquiries :func:`check_inquiry` allowed, each at its instant, exactly
    as :func:`count_use` would one after the other; return each one's denial (None: counted).

    The grants that cover every use asked of them - usable at the first and the last instant,
    with as many uses left - are counted in ONE statement
    (:meth:`consent.stores.GrantStore.consume_uses`); the uses of any other grant are counted
    one by one, so that a grant with fewer uses left than asked serves the first ones and
    denies the others, naming why.
    """
    counted: Set[str] = frozenset()
    if len(uses) > 1:  # a lone use is its own one statement
        instants = [now for _, now in uses]
        asked = Counter(inquiry.grant_id for inquiry, _ in uses)
        counted = grants.consume_uses(asked, min(instants), max(instants))
    denials: list[InquiryDeniedError | None] = []
    for inquiry, now in uses:
        denial = None
        if inquiry.grant_id not in counted:
            try:
                count_use(grants, inquiry, now=now, restricted=restricted)
            except InquiryDeniedError as refused:
                denial = refused
        denials.append(denial)
    return denials


def _check_categories(grant: Grant, asked: frozenset[str], restricted: frozenset[str]) -> None:
    if not asked:
        _deny("an inquiry names at least one category", Reason.CATEGORIES_EMPTY)
    written = {consent.category for consent in grant.written_consents}
    not_granted = asked - grant.granted_categories
    unwritten = (asked & restricted) - written
    if not_granted or unwritten:
        article = RESTRICTED if (not_granted & restricted) or unwritten else UNAUTHORIZED
        _deny("a category asked for is not granted", Reason.CATEGORY_NOT_GRANTED, article)


def _deny(
    detail: str,
    reason: Reason,
    article: str = UNAUTHORIZED,
    *,
    answered_as: Reason | None = None,
) -> NoReturn:
    raise InquiryDeniedError(detail, reason=reason, article=article, answered_as=answered_as)
