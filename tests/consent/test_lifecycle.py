"""Grant lifecycle: only the subject decides (Art. 61(2)); restricted categories need a
written consent each (Art. 62); the transition table is closed."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from consent.clients import Role
from consent.errors import (
    CompelledAuthorizationError,
    GrantNotFoundError,
    IllegalTransitionError,
    InvalidDecisionError,
    Reason,
    WrittenConsentError,
)
from consent.grants import EventKind, GrantState
from consent.lifecycle import (
    TRANSITIONS,
    Actor,
    Approval,
    approve,
    effective_state,
    exhaust,
    expire,
    next_state,
    pause,
    reject,
    resume,
    revoke,
)
from tests.consent.factories import (
    CITIZEN,
    NOW,
    REQUESTER,
    RESTRICTED,
    active_grant,
    pending_grant,
    written,
)

LATER = NOW + timedelta(hours=1)


def test_citizen_approves_a_subset_with_written_consent_for_restricted() -> None:
    grant = pending_grant()
    approval = Approval(frozenset({"basic", "income"}), written("income"))
    transition = approve(grant, approval, actor=CITIZEN, now=LATER, restricted=RESTRICTED)
    approved = transition.grant
    assert approved.state is GrantState.ACTIVE
    assert approved.granted_categories == {"basic", "income"}
    assert approved.not_before == LATER
    assert approved.expires_at == LATER + timedelta(days=60)
    assert transition.event.kind is EventKind.APPROVED
    assert transition.event.actor_role == "citizen"
    assert transition.event.categories == ("basic", "income")
    assert grant.state is GrantState.PENDING


def test_restricted_category_without_its_written_act_is_refused() -> None:
    approval = Approval(frozenset({"basic", "income", "real_estate"}), written("income"))
    with pytest.raises(WrittenConsentError) as refused:
        approve(pending_grant(), approval, actor=CITIZEN, now=LATER, restricted=RESTRICTED)
    assert refused.value.to_problem()["article"] == "Art. 62"
    assert refused.value.to_problem()["reason"] == "written_consent_missing"


@pytest.mark.parametrize(
    ("approval", "reason"),
    [
        (Approval(frozenset()), Reason.CATEGORY_NOT_REQUESTED),
        (Approval(frozenset({"basic", "tax"}), written("tax")), Reason.CATEGORY_NOT_REQUESTED),
        (Approval(frozenset({"basic"}), written("income")), Reason.WRITTEN_CONSENT_UNMATCHED),
        (
            Approval(frozenset({"income"}), written("income") + written("income")),
            Reason.WRITTEN_CONSENT_UNMATCHED,
        ),
        (
            Approval(frozenset({"income"}), written("income", at=LATER + timedelta(seconds=1))),
            Reason.WRITTEN_CONSENT_TIME,
        ),
        (
            Approval(frozenset({"income"}), written("income", at=NOW - timedelta(days=1))),
            Reason.WRITTEN_CONSENT_TIME,
        ),
    ],
)
def test_decisions_that_do_not_fit_the_request_are_refused(
    approval: Approval, reason: Reason
) -> None:
    with pytest.raises(InvalidDecisionError) as refused:
        approve(pending_grant(), approval, actor=CITIZEN, now=LATER, restricted=RESTRICTED)
    assert refused.value.reason == reason


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.CITIZEN])
def test_nobody_but_the_citizen_decides(role: Role) -> None:
    actor = Actor(role, REQUESTER)
    approval = Approval(frozenset({"basic"}))
    with pytest.raises(CompelledAuthorizationError) as refused:
        approve(pending_grant(), approval, actor=actor, now=LATER, restricted=RESTRICTED)
    problem = refused.value.to_problem()
    assert problem["article"] == "Art. 61(2)"
    assert problem["reason"] == "compelled_authorization"
    assert problem["status"] == 403


def test_another_citizen_cannot_see_or_decide_the_grant() -> None:
    other = Actor(Role.CITIZEN, "subject-key-someone-else")
    with pytest.raises(GrantNotFoundError):
        revoke(active_grant(), actor=other, now=LATER)


def test_reject_revoke_pause_resume() -> None:
    assert reject(pending_grant(), actor=CITIZEN, now=LATER).grant.state is GrantState.REJECTED
    revoked = revoke(active_grant(), actor=CITIZEN, now=LATER)
    assert revoked.grant.state is GrantState.REVOKED
    assert revoked.grant.revoked_at == LATER
    assert revoked.event.kind is EventKind.REVOKED
    paused = pause(active_grant(), actor=CITIZEN, now=LATER).grant
    assert paused.state is GrantState.PAUSED
    assert revoke(paused, actor=CITIZEN, now=LATER).grant.state is GrantState.REVOKED
    assert resume(paused, actor=CITIZEN, now=LATER).grant.state is GrantState.ACTIVE


ALL_PAIRS = [(state, kind) for state in GrantState for kind in EventKind]


@pytest.mark.parametrize(("state", "kind"), [p for p in ALL_PAIRS if p not in TRANSITIONS])
def test_transitions_outside_the_table_raise(state: GrantState, kind: EventKind) -> None:
    with pytest.raises(IllegalTransitionError):
        next_state(state, kind)


def test_terminal_states_have_no_way_out() -> None:
    terminal = {GrantState.REJECTED, GrantState.REVOKED, GrantState.EXPIRED, GrantState.EXHAUSTED}
    assert not [source for source, _ in TRANSITIONS if source in terminal]


def test_a_lapsed_request_can_no_longer_be_approved() -> None:
    grant = pending_grant()
    lapsed = grant.pending_until
    assert effective_state(grant, lapsed) is GrantState.EXPIRED
    with pytest.raises(IllegalTransitionError):
        approve(
            grant, Approval(frozenset({"basic"})), actor=CITIZEN, now=lapsed, restricted=RESTRICTED
        )
    recorded = expire(grant, now=lapsed)
    assert recorded.grant.state is GrantState.EXPIRED
    assert recorded.event.actor_role == "gateway"


def test_expiry_and_exhaustion_are_recorded_only_when_due() -> None:
    grant = active_grant()
    assert grant.expires_at is not None
    with pytest.raises(IllegalTransitionError):
        expire(grant, now=LATER)
    assert expire(grant, now=grant.expires_at).grant.state is GrantState.EXPIRED
    with pytest.raises(IllegalTransitionError):
        exhaust(grant, now=LATER)
    used_up = replace(grant, uses=grant.max_uses)
    assert effective_state(used_up, LATER) is GrantState.EXHAUSTED
    assert exhaust(used_up, now=LATER).grant.state is GrantState.EXHAUSTED
    with pytest.raises(IllegalTransitionError):
        revoke(used_up, actor=CITIZEN, now=LATER)


def test_revoking_twice_is_illegal() -> None:
    revoked = revoke(active_grant(), actor=CITIZEN, now=LATER).grant
    with pytest.raises(IllegalTransitionError) as refused:
        revoke(revoked, actor=CITIZEN, now=LATER)
    assert refused.value.status == 409


def test_event_json_is_plain() -> None:
    event = revoke(active_grant(), actor=CITIZEN, now=LATER).event
    assert event.as_json() == {
        "kind": "revoked",
        "grant_id": "cg_test",
        "actor_role": "citizen",
        "at": LATER.isoformat(),
        "categories": ["basic", "income", "real_estate", "untrustworthy"],
    }
