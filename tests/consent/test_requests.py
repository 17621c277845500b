"""Art. 61(2): consent requests that amount to a single lifetime authorization are refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consent.errors import Reason, RefusedRequestError
from consent.grants import EventKind, GrantState, SubjectKind
from consent.purposes import MAX_VALIDITY_DAYS
from consent.requests import PENDING_TTL, validate_request
from tests.consent.factories import CATEGORIES, NOW, REQUESTER, SUBJECT, draft, registry

REFUSALS = [
    ({"requesters": (REQUESTER, "est-other")}, Reason.ONE_REQUESTER_REQUIRED),
    ({"requesters": ()}, Reason.ONE_REQUESTER_REQUIRED),
    ({"subject_keys": (SUBJECT, "subject-key-other")}, Reason.ONE_SUBJECT_REQUIRED),
    ({"subject_keys": ()}, Reason.ONE_SUBJECT_REQUIRED),
    ({"auto_renew": True}, Reason.AUTO_RENEWAL),
    ({"purpose": "anything_at_all"}, Reason.UNKNOWN_PURPOSE),
    ({"subject_kind": SubjectKind.LEGAL_PERSON}, Reason.SUBJECT_KIND_NOT_ALLOWED),
    ({"validity_days": None}, Reason.VALIDITY_MISSING),
    ({"validity_days": 0}, Reason.VALIDITY_INVALID),
    ({"validity_days": 91}, Reason.VALIDITY_EXCEEDS_CAP),
    ({"validity_days": 36500}, Reason.VALIDITY_EXCEEDS_CAP),
    ({"max_uses": None}, Reason.USES_MISSING),
    ({"max_uses": -1}, Reason.USES_INVALID),
    ({"max_uses": 4}, Reason.USES_EXCEED_CAP),
    ({"categories": ()}, Reason.CATEGORIES_EMPTY),
    ({"categories": ("basic", "*")}, Reason.CATEGORY_WILDCARD),
    ({"categories": ("ALL",)}, Reason.CATEGORY_WILDCARD),
    ({"categories": ("basic", "securities")}, Reason.CATEGORY_NOT_NEEDED),
    ({"categories": ("basic", "genetics")}, Reason.CATEGORY_NOT_NEEDED),
]


@pytest.mark.parametrize(("changes", "reason"), REFUSALS, ids=[str(r[1]) for r in REFUSALS])
def test_lifetime_authorizations_are_refused_with_their_article(
    changes: dict[str, object], reason: Reason
) -> None:
    with pytest.raises(RefusedRequestError) as refused:
        validate_request(draft(**changes), registry(), now=NOW)
    problem = refused.value.to_problem()
    assert problem["status"] == 422
    assert problem["article"] == "Art. 61(2)"
    assert problem["reason"] == reason.value


def test_every_request_reason_has_a_refusal_case() -> None:
    covered = {reason for _, reason in REFUSALS}
    request_reasons = set(list(Reason)[: list(Reason).index(Reason.CATEGORY_NOT_NEEDED) + 1])
    assert covered == request_reasons


def test_refusal_detail_names_no_party() -> None:
    with pytest.raises(RefusedRequestError) as refused:
        validate_request(draft(subject_keys=(SUBJECT, "x")), registry(), now=NOW)
    assert SUBJECT not in refused.value.detail
    assert REQUESTER not in refused.value.detail


def test_a_bounded_request_becomes_a_pending_grant_and_event() -> None:
    request = draft(requesters=(REQUESTER, REQUESTER))
    transition = validate_request(request, registry(), now=NOW, grant_id="cg_1")
    grant = transition.grant
    assert grant.state is GrantState.PENDING
    assert (grant.requester, grant.subject_key) == (REQUESTER, SUBJECT)
    assert grant.requested_categories == {"basic", "untrustworthy", "income", "real_estate"}
    assert grant.pending_until == NOW + PENDING_TTL
    assert grant.granted_categories == frozenset()
    assert transition.event.kind is EventKind.REQUESTED
    assert transition.event.actor_role == "establishment"
    assert transition.event.categories == ("basic", "income", "real_estate", "untrustworthy")


def test_generated_grant_ids_differ() -> None:
    first = validate_request(draft(), registry(), now=NOW).grant.grant_id
    second = validate_request(draft(), registry(), now=NOW).grant.grant_id
    assert first != second


PURPOSES = sorted(purpose.code for purpose in registry())


@settings(max_examples=150, deadline=None)
@given(
    purpose=st.sampled_from(PURPOSES),
    categories=st.lists(st.sampled_from(sorted(CATEGORIES | {"*", "all"})), max_size=6),
    validity_days=st.one_of(st.none(), st.integers(min_value=-5, max_value=800)),
    max_uses=st.one_of(st.none(), st.integers(min_value=-2, max_value=40)),
    subject_kind=st.sampled_from(list(SubjectKind)),
    auto_renew=st.booleans(),
)
def test_no_accepted_request_exceeds_the_caps(
    purpose: str,
    categories: list[str],
    validity_days: int | None,
    max_uses: int | None,
    subject_kind: SubjectKind,
    auto_renew: bool,
) -> None:
    request = draft(
        purpose=purpose,
        categories=tuple(categories),
        validity_days=validity_days,
        max_uses=max_uses,
        subject_kind=subject_kind,
        auto_renew=auto_renew,
    )
    try:
        grant = validate_request(request, registry(), now=NOW).grant
    except RefusedRequestError as refused:
        assert refused.to_problem()["article"] == "Art. 61(2)"
        return
    cap = registry().get(purpose)
    assert not auto_renew
    assert 1 <= grant.validity_days <= cap.max_validity_days <= MAX_VALIDITY_DAYS
    assert 1 <= grant.max_uses <= cap.max_uses
    assert grant.requested_categories
    assert grant.requested_categories <= cap.categories
    assert grant.pending_until - grant.requested_at == timedelta(days=7)
