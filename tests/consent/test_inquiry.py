"""Authorized inquiries (Art. 39, 61(2), 62): the negative matrix and atomic use counting."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consent.errors import InquiryDeniedError, Reason
from consent.grants import Grant, GrantState
from consent.inquiry import Inquiry, authorize_inquiry, check_inquiry, count_use, count_uses
from consent.lifecycle import Approval, approve, pause, revoke
from tests.consent.factories import (
    CITIZEN,
    NOW,
    REQUESTER,
    RESTRICTED,
    SUBJECT,
    MemoryGrants,
    active_grant,
    pending_grant,
    written,
)

LATER = NOW + timedelta(days=1)


def inquiry(**changes: object) -> Inquiry:
    base = Inquiry("cg_test", REQUESTER, SUBJECT, "mortgage_application", frozenset({"basic"}))
    return replace(base, **changes)  # type: ignore[arg-type]


def partial_grant() -> Grant:
    """Approved for basic and income only: real_estate was requested but not granted."""
    approval = Approval(frozenset({"basic", "income"}), written("income"))
    return approve(pending_grant(), approval, actor=CITIZEN, now=NOW, restricted=RESTRICTED).grant


def expired_grant() -> Grant:
    return replace(active_grant(), expires_at=LATER - timedelta(seconds=1))


MATRIX: list[tuple[str, Grant | None, Inquiry, Reason, str]] = [
    (
        "grant outside the token's authorization_details",
        active_grant(),
        inquiry(token_grants=frozenset({"cg_other"})),
        Reason.OUTSIDE_AUTHORIZATION_DETAILS,
        "Art. 61(2)",
    ),
    ("no grant", None, inquiry(), Reason.NO_GRANT, "Art. 39"),
    ("other grant id", active_grant(), inquiry(grant_id="cg_x"), Reason.NO_GRANT, "Art. 39"),
    (
        "other subject",
        active_grant(),
        inquiry(subject_key="sk-x"),
        Reason.OTHER_SUBJECT,
        "Art. 61(2)",
    ),
    (
        "other purpose",
        active_grant(),
        inquiry(purpose="loan_application"),
        Reason.OTHER_PURPOSE,
        "Art. 61(2)",
    ),
    ("pending", pending_grant(), inquiry(), Reason.NOT_ACTIVE, "Art. 61(2)"),
    (
        "rejected",
        replace(pending_grant(), state=GrantState.REJECTED),
        inquiry(),
        Reason.NOT_ACTIVE,
        "Art. 61(2)",
    ),
    (
        "paused",
        pause(active_grant(), actor=CITIZEN, now=NOW).grant,
        inquiry(),
        Reason.PAUSED,
        "Art. 61(2)",
    ),
    (
        "revoked",
        revoke(active_grant(), actor=CITIZEN, now=NOW).grant,
        inquiry(),
        Reason.REVOKED,
        "Art. 61(2)",
    ),
    ("expired", expired_grant(), inquiry(), Reason.EXPIRED, "Art. 61(2)"),
    ("exhausted", replace(active_grant(), uses=3), inquiry(), Reason.EXHAUSTED, "Art. 61(2)"),
    (
        "no category",
        active_grant(),
        inquiry(categories=frozenset()),
        Reason.CATEGORIES_EMPTY,
        "Art. 61(2)",
    ),
    (
        "category not granted",
        active_grant(),
        inquiry(categories=frozenset({"basic", "trustworthy"})),
        Reason.CATEGORY_NOT_GRANTED,
        "Art. 61(2)",
    ),
    (
        "restricted category not granted",
        partial_grant(),
        inquiry(categories=frozenset({"real_estate"})),
        Reason.CATEGORY_NOT_GRANTED,
        "Art. 62",
    ),
    (
        "restricted category without written consent",
        replace(active_grant(), written_consents=()),
        inquiry(categories=frozenset({"income"})),
        Reason.CATEGORY_NOT_GRANTED,
        "Art. 62",
    ),
]


@pytest.mark.parametrize(
    ("grant", "asked", "reason", "article"),
    [case[1:] for case in MATRIX],
    ids=[c[0] for c in MATRIX],
)
def test_denials_name_reason_and_article(
    grant: Grant | None, asked: Inquiry, reason: Reason, article: str
) -> None:
    with pytest.raises(InquiryDeniedError) as denied:
        check_inquiry(grant, asked, now=LATER, restricted=RESTRICTED)
    problem = denied.value.to_problem()
    assert (problem["reason"], problem["article"], problem["status"]) == (
        reason.value,
        article,
        403,
    )


def test_another_requesters_grant_is_answered_as_no_grant_and_registered_precisely() -> None:
    """The answer does not tell that the grant exists; the audit log's reason does."""
    with pytest.raises(InquiryDeniedError) as unknown:
        check_inquiry(None, inquiry(requester="est-x"), now=LATER, restricted=RESTRICTED)
    with pytest.raises(InquiryDeniedError) as foreign:
        check_inquiry(active_grant(), inquiry(requester="est-x"), now=LATER, restricted=RESTRICTED)
    assert foreign.value.to_problem() == unknown.value.to_problem()
    assert foreign.value.to_problem()["reason"] == Reason.NO_GRANT.value
    assert foreign.value.reason == Reason.OTHER_REQUESTER.value


def test_a_covered_inquiry_passes() -> None:
    asked = inquiry(categories=frozenset({"basic", "income", "real_estate"}))
    assert (
        check_inquiry(active_grant(), asked, now=LATER, restricted=RESTRICTED).grant_id == "cg_test"
    )
    named = inquiry(token_grants=frozenset({"cg_other", "cg_test"}))
    assert check_inquiry(active_grant(), named, now=LATER, restricted=RESTRICTED).grant_id == (
        "cg_test"
    )


def test_uses_are_counted_and_the_last_one_exhausts() -> None:
    store = MemoryGrants()
    store.put(active_grant())
    remaining = [
        authorize_inquiry(store, inquiry(), now=LATER, restricted=RESTRICTED) for _ in range(3)
    ]
    assert remaining == [2, 1, 0]
    with pytest.raises(InquiryDeniedError) as denied:
        authorize_inquiry(store, inquiry(), now=LATER, restricted=RESTRICTED)
    assert denied.value.reason == Reason.EXHAUSTED


def test_revocation_denies_the_very_next_inquiry() -> None:
    store = MemoryGrants()
    store.put(active_grant())
    authorize_inquiry(store, inquiry(), now=LATER, restricted=RESTRICTED)
    grant = store.get("cg_test")
    assert grant is not None
    store.put(revoke(grant, actor=CITIZEN, now=LATER).grant)
    with pytest.raises(InquiryDeniedError) as denied:
        authorize_inquiry(store, inquiry(), now=LATER, restricted=RESTRICTED)
    assert denied.value.reason == Reason.REVOKED


class RevokedDuringInquiry(MemoryGrants):
    """The citizen revokes between the check and the atomic count."""

    def consume_use(self, grant_id: str, now: object) -> int | None:
        grant = self.grants[grant_id]
        self.put(revoke(grant, actor=CITIZEN, now=LATER).grant)
        return None


class CountFailsWithoutVisibleChange(MemoryGrants):
    def consume_use(self, grant_id: str, now: object) -> int | None:
        return None


def test_a_change_between_check_and_count_is_named() -> None:
    store = RevokedDuringInquiry()
    store.put(active_grant())
    with pytest.raises(InquiryDeniedError) as denied:
        authorize_inquiry(store, inquiry(), now=LATER, restricted=RESTRICTED)
    assert denied.value.reason == Reason.REVOKED


def test_a_failed_count_denies_even_when_nothing_visible_changed() -> None:
    store = CountFailsWithoutVisibleChange()
    store.put(active_grant())
    with pytest.raises(InquiryDeniedError) as denied:
        authorize_inquiry(store, inquiry(), now=LATER, restricted=RESTRICTED)
    assert denied.value.reason == Reason.CONCURRENT_CHANGE


@settings(max_examples=60, deadline=None)
@given(
    max_uses=st.integers(min_value=1, max_value=3),
    attempts=st.integers(min_value=0, max_value=8),
    offsets=st.lists(st.integers(min_value=-2, max_value=70), min_size=8, max_size=8),
)
def test_never_more_inquiries_than_allowed_nor_outside_the_window(
    max_uses: int, attempts: int, offsets: list[int]
) -> None:
    store = MemoryGrants()
    grant = active_grant(max_uses=max_uses)
    store.put(grant)
    assert grant.not_before is not None and grant.expires_at is not None
    served = 0
    for offset in offsets[:attempts]:
        now = NOW + timedelta(days=offset)
        try:
            authorize_inquiry(store, inquiry(), now=now, restricted=RESTRICTED)
        except InquiryDeniedError:
            continue
        assert grant.not_before <= now < grant.expires_at
        served += 1
    assert served <= max_uses


@settings(max_examples=80, deadline=None)
@given(
    max_uses=st.lists(st.integers(min_value=1, max_value=3), min_size=2, max_size=2),
    uses=st.lists(
        st.tuples(st.integers(min_value=0, max_value=1), st.integers(min_value=-2, max_value=70)),
        min_size=1,
        max_size=8,
    ),
)
def test_uses_counted_together_are_counted_as_one_after_the_other(
    max_uses: list[int], uses: list[tuple[int, int]]
) -> None:
    """Several uses of two grants, at instants in and out of their window: counted together,
    each is served or denied (and why) as counted one by one, and the counts end equal."""
    together, one_by_one = MemoryGrants(), MemoryGrants()
    grant_ids = [f"cg_{n}" for n in range(len(max_uses))]
    for grant_id, limit in zip(grant_ids, max_uses, strict=True):
        grant = replace(active_grant(max_uses=limit), grant_id=grant_id)
        together.put(grant)
        one_by_one.put(grant)
    asked = [(inquiry(grant_id=grant_ids[n]), NOW + timedelta(days=day)) for n, day in uses]
    denials = count_uses(together, asked, restricted=RESTRICTED)
    expected: list[str | None] = []
    for each, now in asked:
        try:
            count_use(one_by_one, each, now=now, restricted=RESTRICTED)
            expected.append(None)
        except InquiryDeniedError as denied:
            expected.append(denied.reason)
    assert [None if denial is None else denial.reason for denial in denials] == expected
    assert together.grants == one_by_one.grants
