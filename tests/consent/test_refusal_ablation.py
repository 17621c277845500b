"""Rule ablation for consent/: every refusal the rule modules raise - each ``Reason`` each
module names - has a deterministic example that only that check refuses, with its reason and
article. Removing a check lets its example through and fails its case; a refusal added to a
module without an example fails :func:`test_every_refusal_of_consent_has_an_example`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import consent
from consent.artefact import issue_artefact
from consent.channels import admit, check_authority, check_sharing
from consent.clients import SCOPES_BY_ROLE, Role
from consent.errors import ConsentError, Reason
from consent.grants import EventKind, Grant, GrantState, SubjectKind, WrittenConsent
from consent.inquiry import Inquiry, check_inquiry, count_use
from consent.lifecycle import Actor, Approval, approve, expire, next_state, pause
from consent.receipt import ReceiptSubject, issue_receipt
from consent.requests import validate_request
from consent.rfc6238 import accepted_step, code_at
from consent.step_up import Action, Binding, check_proof
from consent.webauthn import Passkey, RelyingParty, asserted
from redaction.catalog import ScopeCategory, load_catalog
from redaction.policies import Channel
from tests.consent.factories import (
    CITIZEN,
    NOW,
    REQUESTER,
    RESTRICTED,
    SUBJECT,
    MemoryGrants,
    active_grant,
    draft,
    pending_grant,
    registry,
    written,
)
from tests.consent.test_artefact import BANK, JWKS, PSEUDONYM, RING, SOURCE

BASIC, INCOME = ScopeCategory.BASIC, ScopeCategory.INCOME
CATALOG = load_catalog()
BASES = {"inspection": frozenset({BASIC})}


@dataclass(frozen=True)
class Case:
    """Where the refusal is raised, what it is, and the example that only it refuses."""

    module: str
    reason: Reason
    article: str
    refused: Callable[[], object]


def _request(**changes: object) -> Callable[[], object]:
    return lambda: validate_request(draft(**changes), registry(), now=NOW)


def _inquiry(grant: Grant | None = None, **changes: object) -> Callable[[], object]:
    inquiry = Inquiry(
        grant_id="cg_test",
        requester=REQUESTER,
        subject_key=SUBJECT,
        purpose="mortgage_application",
        categories=frozenset({"basic"}),
    )
    chosen = active_grant() if grant is None else grant
    changed = replace(inquiry, **changes)  # type: ignore[arg-type]
    return lambda: check_inquiry(
        chosen, changed, now=NOW + timedelta(hours=1), restricted=RESTRICTED
    )


def _approval(categories: frozenset[str], consents: tuple[WrittenConsent, ...]) -> Approval:
    return Approval(categories, consents)


def _approve(approval: Approval, actor: Actor = CITIZEN) -> Callable[[], object]:
    return lambda: approve(
        pending_grant(),
        approval,
        actor=actor,
        now=NOW + timedelta(minutes=5),
        restricted=RESTRICTED,
    )


def _with_state(state: GrantState) -> Grant:
    return replace(active_grant(), state=state)


class LockedRow(MemoryGrants):
    """A store whose conditional count finds the grant's row taken by a concurrent change
    (as ``SqlGrantStore(skip_locked=True)`` does), though the grant still looks usable."""

    def consume_use(self, grant_id: str, now: datetime) -> int | None:
        return None


def _changed_meanwhile() -> object:
    grants = LockedRow()
    grant = active_grant()
    grants.put(grant)
    inquiry = Inquiry(grant.grant_id, REQUESTER, SUBJECT, grant.purpose, frozenset({"basic"}))
    return count_use(grants, inquiry, now=NOW + timedelta(hours=1), restricted=RESTRICTED)


REQUESTED = frozenset({"basic", "untrustworthy", "income", "real_estate"})
FULL_CONSENT = written("income", "real_estate", at=NOW + timedelta(minutes=1))

CASES = [
    # consent requests: no single lifetime authorization (Art. 61(2))
    Case("requests", Reason.ONE_REQUESTER_REQUIRED, "Art. 61(2)", _request(requesters=("a", "b"))),
    Case("requests", Reason.ONE_SUBJECT_REQUIRED, "Art. 61(2)", _request(subject_keys=())),
    Case("requests", Reason.AUTO_RENEWAL, "Art. 61(2)", _request(auto_renew=True)),
    Case(
        "requests",
        Reason.SUBJECT_KIND_NOT_ALLOWED,
        "Art. 61(2)",
        _request(subject_kind=SubjectKind.LEGAL_PERSON),
    ),
    Case("requests", Reason.VALIDITY_MISSING, "Art. 61(2)", _request(validity_days=None)),
    Case("requests", Reason.VALIDITY_INVALID, "Art. 61(2)", _request(validity_days=0)),
    Case("requests", Reason.VALIDITY_EXCEEDS_CAP, "Art. 61(2)", _request(validity_days=3650)),
    Case("requests", Reason.USES_MISSING, "Art. 61(2)", _request(max_uses=None)),
    Case("requests", Reason.USES_INVALID, "Art. 61(2)", _request(max_uses=0)),
    Case("requests", Reason.USES_EXCEED_CAP, "Art. 61(2)", _request(max_uses=10_000)),
    Case("requests", Reason.CATEGORIES_EMPTY, "Art. 61(2)", _request(categories=())),
    Case("requests", Reason.CATEGORY_WILDCARD, "Art. 61(2)", _request(categories=("*",))),
    Case(
        "requests", Reason.CATEGORY_NOT_NEEDED, "Art. 61(2)", _request(categories=("securities",))
    ),
    Case("purposes", Reason.UNKNOWN_PURPOSE, "Art. 61(2)", _request(purpose="anything_at_all")),
    # decisions: only the subject, on what was requested, with written consent (Art. 61(2), 62)
    Case(
        "lifecycle",
        Reason.COMPELLED_AUTHORIZATION,
        "Art. 61(2)",
        _approve(_approval(REQUESTED, FULL_CONSENT), Actor(Role.ESTABLISHMENT, REQUESTER)),
    ),
    Case(
        "lifecycle",
        Reason.NOT_SUBJECT,
        "Art. 61(2)",
        _approve(_approval(REQUESTED, FULL_CONSENT), Actor(Role.CITIZEN, "someone-else")),
    ),
    Case(
        "lifecycle",
        Reason.CATEGORY_NOT_REQUESTED,
        "Art. 61(2)",
        _approve(_approval(frozenset({"tax"}), ())),
    ),
    Case(
        "lifecycle",
        Reason.WRITTEN_CONSENT_UNMATCHED,
        "Art. 62 para. 2",
        _approve(_approval(REQUESTED, (*FULL_CONSENT, *written("savings")))),
    ),
    Case(
        "lifecycle",
        Reason.WRITTEN_CONSENT_MISSING,
        "Art. 62",
        _approve(_approval(REQUESTED, written("income", at=NOW + timedelta(minutes=1)))),
    ),
    Case(
        "lifecycle",
        Reason.WRITTEN_CONSENT_TIME,
        "Art. 62 para. 2",
        _approve(_approval(REQUESTED, written("income", "real_estate", at=NOW - timedelta(1)))),
    ),
    Case(
        "lifecycle",
        Reason.ILLEGAL_TRANSITION,
        "Art. 61(2)",
        lambda: pause(_with_state(GrantState.REVOKED), actor=CITIZEN, now=NOW),
    ),
    Case(
        "receipt",
        Reason.ILLEGAL_TRANSITION,
        "Art. 61(2)",
        lambda: issue_receipt(
            ReceiptSubject(pending_grant(), BANK, PSEUDONYM),
            SOURCE,
            RING,
            purposes=registry(),
            restricted=RESTRICTED,
            now=NOW,
        ),
    ),
    Case(
        "artefact",
        Reason.ILLEGAL_TRANSITION,
        "Art. 61(2)",
        lambda: issue_artefact(
            pending_grant(), RING, issuer=SOURCE.issuer, subject_pseudonym=PSEUDONYM, now=NOW
        ),
    ),
    # authorized inquiries (Art. 39, 61(2), 62)
    Case(
        "inquiry",
        Reason.OUTSIDE_AUTHORIZATION_DETAILS,
        "Art. 61(2)",
        _inquiry(token_grants=frozenset({"cg_other"})),
    ),
    Case("inquiry", Reason.NO_GRANT, "Art. 39", _inquiry(grant_id="cg_other")),
    # Another establishment's grant answers as no grant at all (no oracle); registered precisely.
    Case("inquiry", Reason.OTHER_REQUESTER, "Art. 39", _inquiry(requester="est-other")),
    Case("inquiry", Reason.OTHER_SUBJECT, "Art. 61(2)", _inquiry(subject_key="other-key")),
    Case("inquiry", Reason.OTHER_PURPOSE, "Art. 61(2)", _inquiry(purpose="post_loan_management")),
    Case("inquiry", Reason.PAUSED, "Art. 61(2)", _inquiry(_with_state(GrantState.PAUSED))),
    Case("inquiry", Reason.REVOKED, "Art. 61(2)", _inquiry(_with_state(GrantState.REVOKED))),
    Case("inquiry", Reason.NOT_ACTIVE, "Art. 61(2)", _inquiry(pending_grant())),
    Case(
        "inquiry",
        Reason.EXPIRED,
        "Art. 61(2)",
        _inquiry(replace(active_grant(), expires_at=NOW + timedelta(minutes=30))),
    ),
    Case("inquiry", Reason.EXHAUSTED, "Art. 61(2)", _inquiry(replace(active_grant(), uses=3))),
    Case("inquiry", Reason.CATEGORIES_EMPTY, "Art. 61(2)", _inquiry(categories=frozenset())),
    Case(
        "inquiry",
        Reason.CATEGORY_NOT_GRANTED,
        "Art. 61(2)",
        _inquiry(categories=frozenset({"trustworthy"})),
    ),
    Case("inquiry", Reason.CONCURRENT_CHANGE, "Art. 61(2)", _changed_meanwhile),
    # the channels (Art. 39 para. 2, 40 para. 1)
    Case(
        "channels",
        Reason.ROLE_NOT_ADMITTED,
        "Art. 39 para. 2",
        lambda: admit(Channel.SHARING, Role.REGULATOR, SCOPES_BY_ROLE[Role.REGULATOR]),
    ),
    Case(
        "channels",
        Reason.SCOPE_MISSING,
        "Art. 39 para. 2",
        lambda: admit(Channel.SHARING, Role.AGENCY, frozenset({"inquiry:authority"})),
    ),
    Case(
        "channels",
        Reason.OUTSIDE_SHARING_SCOPE,
        "Art. 39 para. 2",
        lambda: check_sharing("market_regulation", "监管", frozenset({INCOME}), CATALOG),
    ),
    Case(
        "channels",
        Reason.DUTY_MISSING,
        "Art. 40 para. 1",
        lambda: check_sharing("market_regulation", "", frozenset({BASIC}), CATALOG),
    ),
    Case(
        "channels",
        Reason.LEGAL_BASIS_MISSING,
        "Art. 40 para. 1",
        lambda: check_authority("", "case 1", frozenset(), BASES),
    ),
    Case(
        "channels",
        Reason.LEGAL_BASIS_FOREIGN,
        "Art. 39 para. 2",
        lambda: check_authority("licensing", "case 1", frozenset(), BASES),
    ),
    Case(
        "channels",
        Reason.LEGAL_BASIS_NOT_IN_FORCE,
        "Art. 40 para. 1",
        lambda: check_authority(
            "inspection", "case 1", frozenset(), BASES, frozenset({"inspection"})
        ),
    ),
    Case(
        "channels",
        Reason.CASE_REFERENCE_MISSING,
        "Art. 40 para. 1",
        lambda: check_authority("inspection", " ", frozenset(), BASES),
    ),
    Case(
        "channels",
        Reason.OUTSIDE_LEGAL_BASIS,
        "Art. 40 para. 1",
        lambda: check_authority("inspection", "case 1", frozenset({INCOME}), BASES),
    ),
]

# The second factor of a decision (Art. 61(2)): codes, proofs and passkey assertions.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
STEP = int(NOW.timestamp()) // 30
BINDING = Binding("citizen-1", "session-1", Action.APPROVE, "cg_one")
CASES += [
    Case(
        "rfc6238",
        Reason.SECOND_FACTOR_INVALID,
        "Art. 61(2)",
        lambda: accepted_step(
            TOTP_SECRET, code_at(TOTP_SECRET, NOW - timedelta(hours=1)), NOW, None
        ),
    ),
    Case(
        "rfc6238",
        Reason.SECOND_FACTOR_REPLAYED,
        "Art. 61(2)",
        lambda: accepted_step(TOTP_SECRET, code_at(TOTP_SECRET, NOW), NOW, STEP),
    ),
    Case(
        "step_up",
        Reason.SECOND_FACTOR_REQUIRED,
        "Art. 61(2)",
        lambda: check_proof(None, JWKS, "https://gateway.example", BINDING, NOW),
    ),
    Case(
        "step_up",
        Reason.SECOND_FACTOR_INVALID,
        "Art. 61(2)",
        lambda: check_proof("not.a.proof", JWKS, "https://gateway.example", BINDING, NOW),
    ),
    Case(
        "webauthn",
        Reason.SECOND_FACTOR_INVALID,
        "Art. 61(2)",
        lambda: asserted(
            RelyingParty("gateway.example", "Gateway", "https://gateway.example"),
            {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}},
            bytes(32),
            Passkey(b"credential", b"not a COSE key", 0),
        ),
    ),
]


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{case.module}-{case.reason.value}" for case in CASES]
)
def test_each_refusal_refuses_its_example_naming_its_article(case: Case) -> None:
    with pytest.raises(ConsentError) as refused:
        case.refused()
    problem = refused.value.to_problem()
    assert (refused.value.reason, problem["article"]) == (case.reason.value, case.article)


def test_the_examples_differ_from_an_allowed_case_in_one_thing_only() -> None:
    """The baselines the examples change one thing of are allowed: each refusal is the only
    check its example fails (not luck)."""
    validate_request(draft(), registry(), now=NOW)
    approve(
        pending_grant(),
        Approval(REQUESTED, FULL_CONSENT),
        actor=CITIZEN,
        now=NOW + timedelta(minutes=5),
        restricted=RESTRICTED,
    )
    _inquiry()()
    admit(Channel.SHARING, Role.AGENCY, SCOPES_BY_ROLE[Role.AGENCY])
    check_sharing("market_regulation", "监管", frozenset({BASIC}), CATALOG)
    check_authority("inspection", "case 1", frozenset(), BASES)
    assert next_state(GrantState.ACTIVE, EventKind.PAUSED) is GrantState.PAUSED
    expire(replace(active_grant(), expires_at=NOW), now=NOW)


def _raised() -> set[tuple[str, Reason]]:
    """Every (module, reason) a rule module of consent/ names."""
    folder = Path(consent.__file__).parent
    return {
        (path.stem, Reason[name])
        for path in folder.glob("*.py")
        if path.stem != "errors"
        for name in re.findall(r"Reason\.([A-Z_]+)", path.read_text(encoding="utf-8"))
    }


def test_every_refusal_of_consent_has_an_example() -> None:
    assert {(case.module, case.reason) for case in CASES} == _raised()
