"""The gateway records lapsed grants (Art. 61(2)): pending requests the citizen left alone,
grants past their validity, grants whose uses are spent - each a transition and an audit
event. :func:`gateway.consents.service.expire_lapsed` is what the scheduler runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from consent.grants import GrantState
from consent.requests import PENDING_TTL
from gateway.consents.repository import SqlGrantStore
from gateway.consents.service import expire_lapsed
from gateway.storage.db import unit_of_work
from tests.gateway.consents.factories import Flow, consent_request


def _sweep(flow: Flow, now: datetime) -> int:
    with flow.desk(now) as desk:
        return expire_lapsed(desk)


def _state(flow: Flow, grant_id: str) -> GrantState:
    with unit_of_work(flow.engine) as session:
        grant = SqlGrantStore(session).get(grant_id)
    assert grant is not None
    return grant.state


def test_a_request_left_pending_expires(flow: Flow) -> None:
    grant_id = flow.pending()
    now = datetime.now(UTC)
    assert _sweep(flow, now) == 0
    later = now + PENDING_TTL + timedelta(seconds=1)
    assert _sweep(flow, later) >= 1
    assert _state(flow, grant_id) is GrantState.EXPIRED
    events = flow.audit_events(grant_id)
    assert [e.reason_code for e in events] == ["requested", "expired"]
    assert events[-1].requester == flow.credentials["establishment"]["client_id"]
    assert _sweep(flow, later) == 0


def test_a_grant_expires_after_its_validity(flow: Flow) -> None:
    grant_id = flow.active()
    assert _sweep(flow, datetime.now(UTC) + timedelta(days=179)) == 0
    assert _sweep(flow, datetime.now(UTC) + timedelta(days=181)) >= 1
    assert _state(flow, grant_id) is GrantState.EXPIRED
    assert flow.audit_events(grant_id)[-1].reason_code == "expired"


def test_spent_uses_are_recorded_as_exhausted(flow: Flow) -> None:
    inquiry = flow.inquiry(flow.active(consent_request(max_uses=1)))
    flow.authorize(inquiry)
    assert _sweep(flow, datetime.now(UTC)) == 1
    assert _state(flow, inquiry.grant_id) is GrantState.EXHAUSTED
    assert flow.audit_events(inquiry.grant_id)[-1].reason_code == "exhausted"
