"""The life of a consent grant: a pure transition table and the decisions only the credit
subject may take (Art. 61(2) - no compelled authorization; Art. 62 para. 2-3 - a separate
written consent per restricted category).

States and transitions (:data:`TRANSITIONS`)::

    pending         --approved-->  active     citizen
    pending         --rejected-->  rejected   citizen
    active          --paused-->    paused     citizen
    paused          --resumed-->   active     citizen
    active, paused  --revoked-->   revoked    citizen, at any time
    pending         --expired-->   expired    gateway: pending_until passed
    active, paused  --expired-->   expired    gateway: expires_at passed
    active          --exhausted--> exhausted  gateway: uses reached max_uses

The time-driven states are also *effective* without a write: a pending grant past its
``pending_until`` or an active one past ``expires_at`` is expired, an active one with
``uses >= max_uses`` is exhausted (:func:`effective_state`). The gateway records them with
:func:`expire` and :func:`exhaust` when it notices (a sweep, or ``consume_use`` returning 0).

Every function returns a :class:`~consent.grants.Transition` (new grant and its event) or
raises; none mutates its input. An illegal transition raises ``IllegalTransitionError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from consent.clients import Role
from consent.errors import (
    CompelledAuthorizationError,
    GrantNotFoundError,
    IllegalTransitionError,
    InvalidDecisionError,
    Reason,
    WrittenConsentError,
)
from consent.grants import (
    GATEWAY_ACTOR,
    EventKind,
    Grant,
    GrantEvent,
    GrantState,
    Transition,
    WrittenConsent,
)

S = GrantState
WRITTEN_CONSENT = "Art. 62 para. 2"
"""A written consent that does not fit the categories granted or the pending request."""
TRANSITIONS: Mapping[tuple[GrantState, EventKind], GrantState] = {
    (S.PENDING, EventKind.APPROVED): S.ACTIVE,
    (S.PENDING, EventKind.REJECTED): S.REJECTED,
    (S.PENDING, EventKind.EXPIRED): S.EXPIRED,
    (S.ACTIVE, EventKind.REVOKED): S.REVOKED,
    (S.ACTIVE, EventKind.PAUSED): S.PAUSED,
    (S.ACTIVE, EventKind.EXPIRED): S.EXPIRED,
    (S.ACTIVE, EventKind.EXHAUSTED): S.EXHAUSTED,
    (S.PAUSED, EventKind.RESUMED): S.ACTIVE,
    (S.PAUSED, EventKind.REVOKED): S.REVOKED,
    (S.PAUSED, EventKind.EXPIRED): S.EXPIRED,
}


@dataclass(frozen=True)
class Actor:
    """Who acts: ``principal`` is the subject key for a citizen, the client id otherwise."""

    role: Role
    principal: str


@dataclass(frozen=True)
class Approval:
    """The subject's decision: the categories granted (a subset of those requested) and one
    written consent per restricted category among them."""

    categories: frozenset[str]
    written_consents: tuple[WrittenConsent, ...] = ()


def next_state(state: GrantState, kind: EventKind) -> GrantState:
    """The state after ``kind`` happens in ``state``; raises when the table has no entry."""
    target = TRANSITIONS.get((state, kind))
    if target is None:
        raise IllegalTransitionError(
            f"a consent in state {state.value} cannot be {kind.value}",
            reason=Reason.ILLEGAL_TRANSITION,
        )
    return target


def effective_state(grant: Grant, now: datetime) -> GrantState:
    """The state at ``now``, counting deadlines and uses not yet written back."""
    if grant.state is S.PENDING and now >= grant.pending_until:
        return S.EXPIRED
    if grant.state in (S.ACTIVE, S.PAUSED) and (
        grant.expires_at is None or now >= grant.expires_at
    ):
        return S.EXPIRED
    if grant.state is S.ACTIVE and grant.uses >= grant.max_uses:
        return S.EXHAUSTED
    return grant.state


def approve(
    grant: Grant, approval: Approval, *, actor: Actor, now: datetime, restricted: frozenset[str]
) -> Transition:
    """The subject approves ``approval.categories``; the validity window starts now."""
    _check_subject(grant, actor)
    _check_approval(grant, approval, now, restricted)
    approved = replace(
        grant,
        granted_categories=approval.categories,
        written_consents=approval.written_consents,
        not_before=now,
        expires_at=now + timedelta(days=grant.validity_days),
    )
    return _move(grant, approved, EventKind.APPROVED, actor.role.value, now)


def reject(grant: Grant, *, actor: Actor, now: datetime) -> Transition:
    _check_subject(grant, actor)
    return _move(grant, grant, EventKind.REJECTED, actor.role.value, now)


def revoke(grant: Grant, *, actor: Actor, now: datetime) -> Transition:
    """Revocation at any time while the grant is usable; the next inquiry is denied."""
    _check_subject(grant, actor)
    return _move(grant, replace(grant, revoked_at=now), EventKind.REVOKED, actor.role.value, now)


def pause(grant: Grant, *, actor: Actor, now: datetime) -> Transition:
    _check_subject(grant, actor)
    return _move(grant, grant, EventKind.PAUSED, actor.role.value, now)


def resume(grant: Grant, *, actor: Actor, now: datetime) -> Transition:
    _check_subject(grant, actor)
    return _move(grant, grant, EventKind.RESUMED, actor.role.value, now)


def expire(grant: Grant, *, now: datetime) -> Transition:
    """Record a deadline that has passed; raises if the grant is not effectively expired."""
    return _record_effective(grant, EventKind.EXPIRED, S.EXPIRED, now)


def exhaust(grant: Grant, *, now: datetime) -> Transition:
    """Record that every use is spent; raises if uses remain."""
    return _record_effective(grant, EventKind.EXHAUSTED, S.EXHAUSTED, now)


def _record_effective(
    grant: Grant, kind: EventKind, state: GrantState, now: datetime
) -> Transition:
    if grant.state is state or effective_state(grant, now) is not state:
        raise IllegalTransitionError(
            f"the consent is not {state.value}", reason=Reason.ILLEGAL_TRANSITION
        )
    return _move(grant, grant, kind, GATEWAY_ACTOR, now, source=grant.state)


def _move(
    before: Grant,
    after: Grant,
    kind: EventKind,
    actor_role: str,
    now: datetime,
    *,
    source: GrantState | None = None,
) -> Transition:
    """``after`` in the state ``kind`` leads to from ``source`` (default: effective state)."""
    state = next_state(source or effective_state(before, now), kind)
    moved = replace(after, state=state)
    categories = moved.granted_categories or moved.requested_categories
    event = GrantEvent(kind, moved.grant_id, actor_role, now, tuple(sorted(categories)))
    return Transition(moved, event)


def _check_subject(grant: Grant, actor: Actor) -> None:
    """Only the credit subject, in the gateway's own channel, decides (Art. 61(2))."""
    if actor.role is not Role.CITIZEN:
        raise CompelledAuthorizationError(
            "only the credit subject may decide on a consent",
            reason=Reason.COMPELLED_AUTHORIZATION,
        )
    if actor.principal != grant.subject_key:
        raise GrantNotFoundError("no such consent", reason=Reason.NOT_SUBJECT)


def _check_approval(
    grant: Grant, approval: Approval, now: datetime, restricted: frozenset[str]
) -> None:
    chosen = approval.categories
    if not chosen or not chosen <= grant.requested_categories:
        raise InvalidDecisionError(
            "approve a non-empty subset of the requested categories",
            reason=Reason.CATEGORY_NOT_REQUESTED,
        )
    by_category = {consent.category: consent for consent in approval.written_consents}
    if len(by_category) != len(approval.written_consents) or not by_category.keys() <= chosen:
        raise InvalidDecisionError(
            "one written consent per granted category, and only for granted categories",
            reason=Reason.WRITTEN_CONSENT_UNMATCHED,
            article=WRITTEN_CONSENT,
        )
    if not (chosen & restricted) <= by_category.keys():
        raise WrittenConsentError(
            "a restricted category needs its own written consent",
            reason=Reason.WRITTEN_CONSENT_MISSING,
        )
    if any(not grant.requested_at <= c.signed_at <= now for c in by_category.values()):
        raise InvalidDecisionError(
            "a written consent must be signed while the request is pending",
            reason=Reason.WRITTEN_CONSENT_TIME,
            article=WRITTEN_CONSENT,
        )
