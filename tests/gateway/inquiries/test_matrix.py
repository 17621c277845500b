"""The authorization matrix of the five channels (Art. 39 para. 2-3, 40, 61(2), 62, 69): every
channel with every role, and every cause of refusal - the answer, and the audit entry that
registered it (decoded from its leaf)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from audit.leaf import AuditEvent, Channel, EventKind, Outcome
from tests.gateway.consents.factories import mortgage_request
from tests.gateway.inquiries.factories import (
    NOTHING_PUBLIC,
    OTHER_AGENCY_BASIS,
    Request,
    World,
    subject,
)
from tests.gateway.test_problems import assert_problem

PERSONAS = ["establishment", "agency", "provider", "regulator", "citizen", None]
OWNERS = {"authorized": "establishment", "sharing": "agency", "authority": "agency"}
OWNERS["self"] = "citizen"
LEAF_CHANNELS = {
    "authorized": Channel.AUTHORIZED_INQUIRY,
    "sharing": Channel.GOVERNMENT_AFFAIRS_SHARING,
    "authority": Channel.INQUIRY_BASED_ON_AUTHORITY,
    "self": Channel.REAL_NAME_VERIFIED_INQUIRY,
    "public": Channel.LAWFUL_PUBLIC_DISCLOSURE,
}


def requester(world: World, persona: str) -> str:
    """How the leaf names a requester: its client id, a citizen by role."""
    return "citizen" if persona == "citizen" else world.client_id(persona)


def registered(world: World, before: int) -> AuditEvent:
    """The one entry the request added to the log."""
    assert world.log_size() == before + 1
    event = world.last_event()
    assert event.kind is EventKind.INQUIRY
    return event


@pytest.mark.parametrize("channel", list(LEAF_CHANNELS))
@pytest.mark.parametrize("persona", PERSONAS, ids=lambda persona: persona or "anonymous")
def test_every_role_on_every_channel(world: World, channel: str, persona: str | None) -> None:
    request = world.request(channel)
    before = world.log_size()
    response = world.send(request, persona)
    if channel != "public" and persona is None:
        assert_problem(response, 401)
        assert world.log_size() == before  # no credentials at all: only counted
        return
    if channel == "public" or persona == OWNERS[channel]:
        assert response.status_code == 200, response.text
        event = registered(world, before)
        assert world.event(response.json()["audit"]["leaf_index"]) == event
        assert event.outcome is Outcome.ALLOWED and event.reason_code == ""
        expected = "public" if channel == "public" else requester(world, str(persona))
    else:
        problem = assert_problem(response, 403)
        assert (problem["reason"], problem["article"]) == ("role_not_admitted", "Art. 39 para. 2")
        assert "items" not in problem
        event = registered(world, before)
        assert (event.outcome, event.reason_code) == (Outcome.DENIED, "role_not_admitted")
        expected = requester(world, str(persona))
    assert event.channel is LEAF_CHANNELS[channel]
    assert event.requester == expected


# -- each cause of refusal ----------------------------------------------------------------

Case = Callable[[World], tuple[Request, str]]


def _no_grant(world: World) -> tuple[Request, str]:
    return world.authorized("cg_missing"), "establishment"


def _revoked(world: World) -> tuple[Request, str]:
    grant_id = world.grant()
    assert world.flow.decide(grant_id, "revoke").status_code == 200
    return world.authorized(grant_id), "establishment"


def _paused(world: World) -> tuple[Request, str]:
    grant_id = world.grant()
    assert world.flow.decide(grant_id, "pause").status_code == 200
    return world.authorized(grant_id), "establishment"


def _pending(world: World) -> tuple[Request, str]:
    return world.authorized(world.flow.pending()), "establishment"


def _expired(world: World) -> tuple[Request, str]:
    grant_id = world.grant()
    world.expire(grant_id)
    return world.authorized(grant_id), "establishment"


def _exhausted(world: World) -> tuple[Request, str]:
    grant_id = world.grant(max_uses=1)
    assert world.send(world.authorized(grant_id), "establishment").status_code == 200
    return world.authorized(grant_id), "establishment"


def _other_subject(world: World) -> tuple[Request, str]:
    return world.authorized(world.grant(), subject=subject(NOTHING_PUBLIC)), "establishment"


def _other_requester(world: World) -> tuple[Request, str]:
    other = world.flow.register_establishment()["client_id"]
    return world.authorized(world.grant()), other


def _other_purpose(world: World) -> tuple[Request, str]:
    return world.authorized(world.grant(), purpose="lease_screening"), "establishment"


def _category_not_granted(world: World) -> tuple[Request, str]:
    grant_id = world.flow.pending()
    assert world.flow.decide(grant_id, "approve", categories=["basic"]).status_code == 200
    return world.authorized(grant_id, categories=["untrustworthy"]), "establishment"


def _restricted_without_written_consent(world: World) -> tuple[Request, str]:
    grant_id = world.flow.pending(mortgage_request())
    assert world.flow.decide(grant_id, "approve", categories=["basic"]).status_code == 200
    request = world.authorized(
        grant_id, purpose="mortgage_application", categories=["basic", "income"]
    )
    return request, "establishment"


def _narrow_scope(world: World) -> tuple[Request, str]:
    """An establishment token minted without the inquiry scope."""
    narrow = {**world.flow.credentials["establishment"], "scope": "consent:request"}
    world.personas["consent-scope-only"] = narrow
    return world.authorized(world.grant()), "consent-scope-only"


def token_for(world: World, grant_id: str) -> str:
    """A persona whose tokens' RFC 9396 authorization_details name only ``grant_id``."""
    details = json.dumps([{"type": "credit_inquiry", "grant_id": grant_id}])
    world.personas[f"token-for-{grant_id}"] = {
        **world.flow.credentials["establishment"],
        "authorization_details": details,
    }
    return f"token-for-{grant_id}"


def _outside_authorization_details(world: World) -> tuple[Request, str]:
    """The establishment's own active grant, but not the one its token was issued for."""
    return world.authorized(world.grant()), token_for(world, world.grant())


def _outside_sharing_scope(world: World) -> tuple[Request, str]:
    return world.sharing(categories=["basic", "income"]), "agency"


def _agency_without_sector(world: World) -> tuple[Request, str]:
    return world.sharing(), "sectorless"


def _no_duty(world: World) -> tuple[Request, str]:
    return world.sharing(duty=" "), "agency"


def _no_legal_basis(world: World) -> tuple[Request, str]:
    return world.authority(legal_basis=None), "agency"


def _foreign_legal_basis(world: World) -> tuple[Request, str]:
    return world.authority(legal_basis=OTHER_AGENCY_BASIS), "agency"


def _no_case_reference(world: World) -> tuple[Request, str]:
    return world.authority(case_reference="  "), "agency"


def _beyond_legal_basis(world: World) -> tuple[Request, str]:
    return world.authority(categories=["basic", "trustworthy"]), "agency"


def _malformed_identifier(world: World) -> tuple[Request, str]:
    return world.sharing(subject=subject("110105194912310021")), "agency"


REFUSALS: list[tuple[Case, int, str, str | None]] = [
    (_outside_authorization_details, 403, "outside_authorization_details", "Art. 61(2)"),
    (_no_grant, 403, "no_grant", "Art. 39"),
    (_revoked, 403, "revoked", "Art. 61(2)"),
    (_paused, 403, "paused", "Art. 61(2)"),
    (_pending, 403, "not_active", "Art. 61(2)"),
    (_expired, 403, "expired", "Art. 61(2)"),
    (_exhausted, 403, "exhausted", "Art. 61(2)"),
    (_other_subject, 403, "other_subject", "Art. 61(2)"),
    (_other_purpose, 403, "other_purpose", "Art. 61(2)"),
    (_category_not_granted, 403, "category_not_granted", "Art. 61(2)"),
    (_restricted_without_written_consent, 403, "category_not_granted", "Art. 62"),
    (_narrow_scope, 403, "scope_missing", "Art. 39 para. 2"),
    (_outside_sharing_scope, 403, "outside_sharing_scope", "Art. 39 para. 2"),
    (_agency_without_sector, 403, "outside_sharing_scope", "Art. 39 para. 2"),
    (_no_duty, 403, "duty_missing", "Art. 40 para. 1"),
    (_no_legal_basis, 403, "legal_basis_missing", "Art. 40 para. 1"),
    (_foreign_legal_basis, 403, "legal_basis_foreign", "Art. 39 para. 2"),
    (_no_case_reference, 403, "case_reference_missing", "Art. 40 para. 1"),
    (_beyond_legal_basis, 403, "outside_legal_basis", "Art. 40 para. 1"),
    (_malformed_identifier, 422, "invalid-identifier", "Art. 34"),
]


@pytest.mark.parametrize(
    ("case", "status", "reason", "article"),
    REFUSALS,
    ids=[case.__name__.strip("_") for case, *_ in REFUSALS],
)
def test_each_refusal_is_answered_and_registered(
    world: World, case: Case, status: int, reason: str, article: str
) -> None:
    request, persona = case(world)
    before = world.log_size()
    response = world.send(request, persona)
    problem = assert_problem(response, status)
    assert problem["article"] == article
    # policy denials name their reason; other refusals are registered by their problem type
    assert problem.get("reason", str(problem["type"]).rsplit("/", 1)[-1]) == reason
    event = registered(world, before)
    assert (event.outcome, event.reason_code) == (Outcome.DENIED, reason)
    path = request[1]
    assert event.channel is LEAF_CHANNELS[path.rsplit("/", 1)[-1]]
    body = request[2] or {}
    assert event.grant_id == body.get("grant_id", "")
    assert event.legal_basis == (body.get("legal_basis") or "")
    assert event.item_categories == frozenset(body.get("categories", []))
    assert event.requester == requester(world, persona)


def test_another_establishments_grant_is_answered_as_an_unknown_one(world: World) -> None:
    """The answer does not tell that a grant of another establishment exists; the audit log
    registers the precise reason."""
    request, other = _other_requester(world)
    unknown = world.send(world.authorized("cg_missing"), other)
    before = world.log_size()
    foreign = world.send(request, other)
    assert foreign.status_code == unknown.status_code == 403
    assert foreign.json() == unknown.json()
    assert foreign.json()["reason"] == "no_grant"
    event = registered(world, before)
    assert (event.outcome, event.reason_code) == (Outcome.DENIED, "other_requester")


@pytest.mark.parametrize(
    "changes",
    [
        {"legal_basis": "张三 320102198804122177"},
        {"legal_basis": ""},
        {"categories": ["religious_faith"]},
    ],
)
def test_art_39_a_malformed_inquiry_is_registered_without_what_it_stated(
    world: World, changes: dict[str, object]
) -> None:
    """What an inquiry states goes into the log as given, so free text never gets that far: an
    inquiry its schema refuses is registered by its caller and channel only, and its 422
    names Art. 39."""
    before = world.log_size()
    response = world.send(world.authority(**changes), "agency")
    problem = assert_problem(response, 422)
    assert problem["article"] == "Art. 39" and problem["errors"]
    event = registered(world, before)
    assert (event.outcome, event.reason_code) == (Outcome.DENIED, "invalid-inquiry")
    assert event.channel is Channel.INQUIRY_BASED_ON_AUTHORITY
    assert event.requester == world.client_id("agency")
    assert (event.legal_basis, event.purpose, event.item_categories) == ("", "", frozenset())


@pytest.mark.parametrize(
    ("request_of", "persona"),
    [
        (lambda world: world.authorized("not a grant id"), "establishment"),
        (lambda world: world.sharing(categories=[]), "agency"),
        (lambda world: world.public("x" * 65), None),
    ],
)
def test_art_39_every_malformed_inquiry_of_a_channel_is_registered(
    world: World, request_of: Callable[[World], Request], persona: str | None
) -> None:
    request = request_of(world)
    before = world.log_size()
    assert assert_problem(world.send(request, persona), 422)["article"] == "Art. 39"
    event = registered(world, before)
    assert event.reason_code == "invalid-inquiry"
    assert event.requester == ("public" if persona is None else world.client_id(persona))


def test_an_unauthenticated_malformed_inquiry_is_only_refused(world: World) -> None:
    before = world.log_size()
    response = world.client.post("/v1/inquiries/sharing", json={"subject": "x"})
    assert_problem(response, 401)
    assert world.log_size() == before


def test_a_token_for_one_grant_inquires_within_it(world: World) -> None:
    grant_id = world.grant()
    response = world.send(world.authorized(grant_id), token_for(world, grant_id))
    assert response.status_code == 200, response.text
