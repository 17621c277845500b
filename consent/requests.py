"""Consent requests (Art. 61(2)): a request that amounts to a single lifetime authorization
is refused when it is made, with status 422, article ``Art. 61(2)`` and one reason each:

=============================  ===========================================================
reason                         the request...
=============================  ===========================================================
``one_requester_required``     names no requester or more than one
``one_subject_required``       names no subject or more than one
``auto_renewal``               asks to renew itself
``unknown_purpose``            names a purpose not in the registry
``subject_kind_not_allowed``   is for a kind of subject the purpose does not cover
``validity_missing``           has no expiry
``validity_invalid``           has a validity below one day
``validity_exceeds_cap``       is valid longer than the purpose allows (at most 365 days)
``uses_missing``               has no maximum number of inquiries
``uses_invalid``               allows fewer than one inquiry
``uses_exceed_cap``            allows more inquiries than the purpose allows
``categories_empty``           names no category
``category_wildcard``          names a wildcard (``*``, ``all``)
``category_not_needed``        names a category the purpose does not need
=============================  ===========================================================

The gateway builds a :class:`ConsentRequestDraft` from the authenticated client and the
request body - ``requesters`` holds the authenticated client id and any requester the body
names, ``subject_keys`` every subject the body names, both as given - and stores the pending
grant :func:`validate_request` returns. A pending request lapses after ``pending_ttl``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from consent.clients import Role
from consent.errors import Reason, RefusedRequestError
from consent.grants import EventKind, Grant, GrantEvent, SubjectKind, Transition
from consent.purposes import MAX_VALIDITY_DAYS, Purpose, PurposeRegistry

PENDING_TTL = timedelta(days=7)
WILDCARDS = frozenset({"*", "all", "any"})


@dataclass(frozen=True)
class ConsentRequestDraft:
    """A consent request as received, before any check."""

    requesters: tuple[str, ...]
    subject_keys: tuple[str, ...]
    subject_kind: SubjectKind
    purpose: str
    categories: tuple[str, ...]
    validity_days: int | None
    max_uses: int | None
    auto_renew: bool = False


def new_grant_id() -> str:
    return "cg_" + secrets.token_urlsafe(16)


def validate_request(
    draft: ConsentRequestDraft,
    registry: PurposeRegistry,
    *,
    now: datetime,
    grant_id: str | None = None,
    pending_ttl: timedelta = PENDING_TTL,
) -> Transition:
    """The pending grant for ``draft`` and its ``requested`` event, or a refusal."""
    requester = _only(draft.requesters, Reason.ONE_REQUESTER_REQUIRED)
    subject_key = _only(draft.subject_keys, Reason.ONE_SUBJECT_REQUIRED)
    if draft.auto_renew:
        _refuse("automatic renewal is a lifetime authorization", Reason.AUTO_RENEWAL)
    purpose = registry.get(draft.purpose)
    if draft.subject_kind not in purpose.subject_kinds:
        _refuse(
            "the purpose does not apply to this kind of subject", Reason.SUBJECT_KIND_NOT_ALLOWED
        )
    validity_days = _capped(
        draft.validity_days, min(purpose.max_validity_days, MAX_VALIDITY_DAYS), _VALIDITY
    )
    max_uses = _capped(draft.max_uses, purpose.max_uses, _USES)
    categories = _categories(draft.categories, purpose)
    grant = Grant(
        grant_id=grant_id or new_grant_id(),
        requester=requester,
        subject_key=subject_key,
        subject_kind=draft.subject_kind,
        purpose=purpose.code,
        requested_categories=categories,
        validity_days=validity_days,
        max_uses=max_uses,
        requested_at=now,
        pending_until=now + pending_ttl,
    )
    event = GrantEvent(
        EventKind.REQUESTED,
        grant.grant_id,
        Role.ESTABLISHMENT.value,
        now,
        tuple(sorted(categories)),
    )
    return Transition(grant, event)


@dataclass(frozen=True)
class _Limit:
    name: str
    missing: Reason
    invalid: Reason
    exceeds: Reason


_VALIDITY = _Limit(
    "validity", Reason.VALIDITY_MISSING, Reason.VALIDITY_INVALID, Reason.VALIDITY_EXCEEDS_CAP
)
_USES = _Limit("maximum uses", Reason.USES_MISSING, Reason.USES_INVALID, Reason.USES_EXCEED_CAP)


def _capped(value: int | None, cap: int, limit: _Limit) -> int:
    if value is None:
        _refuse(f"{limit.name} is required", limit.missing)
    if value < 1:
        _refuse(f"{limit.name} must be at least one", limit.invalid)
    if value > cap:
        _refuse(f"{limit.name} exceeds the purpose's cap of {cap}", limit.exceeds)
    return value


def _categories(requested: tuple[str, ...], purpose: Purpose) -> frozenset[str]:
    categories = frozenset(requested)
    if not categories:
        _refuse("at least one category is required", Reason.CATEGORIES_EMPTY)
    if any(category.strip().lower() in WILDCARDS for category in categories):
        _refuse("wildcard categories are not allowed", Reason.CATEGORY_WILDCARD)
    if not categories <= purpose.categories:
        _refuse("a category is not needed for the purpose", Reason.CATEGORY_NOT_NEEDED)
    return categories


def _only(values: tuple[str, ...], reason: Reason) -> str:
    distinct = set(values)
    if len(distinct) != 1 or "" in distinct:
        _refuse("a consent has exactly one requester and one subject", reason)
    return distinct.pop()


def _refuse(detail: str, reason: Reason) -> NoReturn:
    raise RefusedRequestError(detail, reason=reason)
