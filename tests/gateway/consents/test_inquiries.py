"""Grants as authorized inquiries meet them (Art. 39, 61(2), 62), on the real store: uses are
counted atomically and a revocation denies the very next inquiry. The inquiry endpoint is
another issue; this is :func:`consent.inquiry.authorize_inquiry` on ``SqlGrantStore``."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from consent.errors import InquiryDeniedError, Reason
from consent.inquiry import Inquiry
from gateway.consents.repository import SqlGrantStore
from gateway.storage.db import unit_of_work
from tests.gateway.consents.factories import OTHER_PERSON, Flow, consent_request

CONCURRENT = 50


def _denial(flow: Flow, inquiry: Inquiry, now: datetime | None = None) -> tuple[str, str]:
    with pytest.raises(InquiryDeniedError) as denied:
        flow.authorize(inquiry, now)
    problem = denied.value.to_problem()
    return str(problem["reason"]), str(problem["article"])


def test_exactly_max_uses_of_many_concurrent_inquiries_succeed(flow: Flow) -> None:
    inquiry = flow.inquiry(flow.active(consent_request(max_uses=5)))
    start = threading.Barrier(CONCURRENT)

    def attempt(_: int) -> bool:
        start.wait()
        try:
            flow.authorize(inquiry)
        except InquiryDeniedError:
            return False
        return True

    with ThreadPoolExecutor(CONCURRENT) as pool:
        outcomes = list(pool.map(attempt, range(CONCURRENT)))
    assert outcomes.count(True) == 5
    with unit_of_work(flow.engine) as session:
        grant = SqlGrantStore(session).get(inquiry.grant_id)
    assert grant is not None and grant.uses == 5


def test_the_inquiry_after_a_revocation_is_denied(flow: Flow) -> None:
    inquiry = flow.inquiry(flow.active())
    assert flow.authorize(inquiry) == 4
    assert flow.decide(inquiry.grant_id, "revoke").status_code == 200
    assert _denial(flow, inquiry) == (Reason.REVOKED, "Art. 61(2)")
    with unit_of_work(flow.engine) as session:
        assert SqlGrantStore(session).consume_use(inquiry.grant_id, datetime.now(UTC)) is None


def test_a_revocation_keeps_the_uses_counted_meanwhile(flow: Flow) -> None:
    """The lifecycle write never touches ``uses``: no inquiry is forgotten by a decision."""
    inquiry = flow.inquiry(flow.active())
    flow.authorize(inquiry)
    flow.decide(inquiry.grant_id, "pause")
    with unit_of_work(flow.engine) as session:
        grant = SqlGrantStore(session).get(inquiry.grant_id)
    assert grant is not None and grant.uses == 1


def _expired(flow: Flow) -> tuple[Inquiry, datetime]:
    return flow.inquiry(flow.active()), datetime.now(UTC) + timedelta(days=181)


def _revoked(flow: Flow) -> tuple[Inquiry, datetime | None]:
    inquiry = flow.inquiry(flow.active())
    flow.decide(inquiry.grant_id, "revoke")
    return inquiry, None


def _paused(flow: Flow) -> tuple[Inquiry, datetime | None]:
    inquiry = flow.inquiry(flow.active())
    flow.decide(inquiry.grant_id, "pause")
    return inquiry, None


def _exhausted(flow: Flow) -> tuple[Inquiry, datetime | None]:
    inquiry = flow.inquiry(flow.active(consent_request(max_uses=1)))
    flow.authorize(inquiry)
    return inquiry, None


def _pending(flow: Flow) -> tuple[Inquiry, datetime | None]:
    return flow.inquiry(flow.pending()), None


def _other_subject(flow: Flow) -> tuple[Inquiry, datetime | None]:
    return replace(flow.inquiry(flow.active()), subject_key=flow.subject_key(OTHER_PERSON)), None


def _other_requester(flow: Flow) -> tuple[Inquiry, datetime | None]:
    return replace(flow.inquiry(flow.active()), requester="another-bank"), None


def _other_purpose(flow: Flow) -> tuple[Inquiry, datetime | None]:
    return replace(flow.inquiry(flow.active()), purpose="lease_screening"), None


def _category_not_granted(flow: Flow) -> tuple[Inquiry, datetime | None]:
    grant_id = flow.pending()
    flow.decide(grant_id, "approve", categories=["basic"])
    return replace(flow.inquiry(grant_id), categories=frozenset({"untrustworthy"})), None


def _no_grant(flow: Flow) -> tuple[Inquiry, datetime | None]:
    return flow.inquiry("cg_missing"), None


NEGATIVE_MATRIX = [
    (_expired, Reason.EXPIRED, "Art. 61(2)"),
    (_revoked, Reason.REVOKED, "Art. 61(2)"),
    (_paused, Reason.PAUSED, "Art. 61(2)"),
    (_exhausted, Reason.EXHAUSTED, "Art. 61(2)"),
    (_pending, Reason.NOT_ACTIVE, "Art. 61(2)"),
    (_other_subject, Reason.OTHER_SUBJECT, "Art. 61(2)"),
    (_other_requester, Reason.NO_GRANT, "Art. 39"),  # answered as no grant at all
    (_other_purpose, Reason.OTHER_PURPOSE, "Art. 61(2)"),
    (_category_not_granted, Reason.CATEGORY_NOT_GRANTED, "Art. 61(2)"),
    (_no_grant, Reason.NO_GRANT, "Art. 39"),
]


@pytest.mark.parametrize(
    ("case", "reason", "article"), NEGATIVE_MATRIX, ids=[r.value for _, r, _ in NEGATIVE_MATRIX]
)
def test_negative_matrix_on_the_store(
    flow: Flow, case: object, reason: Reason, article: str
) -> None:
    assert callable(case)
    inquiry, now = case(flow)
    assert _denial(flow, inquiry, now) == (reason, article)
