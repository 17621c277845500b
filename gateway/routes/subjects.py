"""Credit subjects over HTTP (Art. 34, 39, 61(2)).

* The operator (role ``operator``, scope ``subjects:enrol`` and nothing else) enrols natural
  persons in batches and entities with their legal representative, as ``gateway subjects``
  does. Enrolment is administration, not oversight: a regulator audits the gateway and so gets
  no power to create the accounts it audits.
* A signed-in person lists the entities they may act for, and gets an access token that acts
  for one (``acting_for``); the entity's legal representative authorizes agents (with the
  authorization document's reference and validity) and withdraws them. Another entity's
  agents, or an entity the person may not act for, is 403 naming Art. 61(2).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from gateway.auth import CitizenCaller, CitizenReader, OperatorCaller
from gateway.deps import DbSession
from gateway.parties.accounts import authorities_of, authority_for
from gateway.parties.citizens import citizen_token
from gateway.parties.enrolment import (
    AgentGrant,
    EnrolmentOutcome,
    EntityEnrolment,
    EntityKind,
    PersonEnrolment,
    agents_of,
    enrol_batch,
    enrol_entity,
    grant_agent,
    withdraw_agent,
)
from gateway.parties.models import Citizen, EntityAgent
from gateway.problem_handlers import problem_responses
from gateway.routes.citizen_auth import CitizenToken
from gateway.routes.oauth import Server
from gateway.validation import Identifier, StrictBody, StrictRoute
from problems import GatewayError, InvalidInput

router = APIRouter(tags=["subjects"], route_class=StrictRoute)
MAX_PERSONS = 1000
AccountId = Annotated[
    Identifier, Path(pattern=r"^[0-9a-f]{32}$", description="An entity's account id")
]
AgentId = Annotated[Identifier, Path(pattern=r"^ag_[0-9a-f]{32}$", description="ag_...")]
DocumentType = Annotated[Identifier, Field(pattern=r"^[a-z_]{1,32}$")]
Number = Annotated[Identifier, Field(min_length=1, max_length=64)]


class DocumentIn(StrictBody):
    document_type: DocumentType
    number: Number


class PersonIn(StrictBody):
    """A natural person: the ID number, or only without one another document (Art. 34
    para. 2); ``documents``: the other documents of a person with an ID number."""

    full_name: Identifier = Field(min_length=1, max_length=100)
    id_number: Number | None = None
    document: DocumentIn | None = None
    documents: list[DocumentIn] = Field(default_factory=list, max_length=8)

    def to_enrolment(self) -> PersonEnrolment:
        return PersonEnrolment(
            full_name=self.full_name,
            id_number=self.id_number,
            document_type=self.document.document_type if self.document else None,
            document_number=self.document.number if self.document else None,
            documents=tuple((entry.document_type, entry.number) for entry in self.documents),
        )


class PersonsIn(StrictBody):
    persons: list[PersonIn] = Field(min_length=1, max_length=MAX_PERSONS)


class ProblemOut(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    article: str | None = None


class EnrolmentOut(BaseModel):
    outcome: EnrolmentOutcome = Field(description="enrolled, unchanged or refused")
    account_id: str | None = None
    problem: ProblemOut | None = None


class EnrolmentsOut(BaseModel):
    results: list[EnrolmentOut] = Field(description="One per person, in order")


class EntityIn(StrictBody):
    """A legal person or unincorporated organization and its legal representative (an
    enrolled person, by ID number or ``type:number`` of their document)."""

    credit_code: Identifier = Field(min_length=18, max_length=18)
    name: Identifier = Field(min_length=1, max_length=200)
    kind: EntityKind = EntityKind.LEGAL_PERSON
    representative: Number


class EntityOut(BaseModel):
    entity_id: str
    credit_code: str
    name: str
    kind: str
    role: str = Field(description="How you act for it: legal_representative or agent")
    valid_until: date | None = Field(None, description="An agent's authorization ends")


class EntitiesOut(BaseModel):
    entities: list[EntityOut]


class ActingIn(StrictBody):
    entity_id: Identifier = Field(pattern=r"^[0-9a-f]{32}$")


class AgentIn(StrictBody):
    """The authorization of an agent: who, the document's reference, its validity."""

    agent: Number = Field(description="The agent's ID number (or type:number); enrolled")
    document_reference: Identifier = Field(min_length=1, max_length=128)
    valid_from: date
    valid_until: date


class AgentOut(BaseModel):
    agent_id: str
    agent_name: str | None
    document_reference: str
    valid_from: date
    valid_until: date
    granted_at: datetime
    withdrawn_at: datetime | None


class AgentsOut(BaseModel):
    agents: list[AgentOut]


def _problem(error: GatewayError | None) -> ProblemOut | None:
    return None if error is None else ProblemOut.model_validate(error.to_problem())


def _agent_out(agent: EntityAgent, person: Citizen | None) -> AgentOut:
    return AgentOut(
        agent_id=agent.id,
        agent_name=person.full_name if person else None,
        document_reference=agent.document_reference,
        valid_from=agent.valid_from,
        valid_until=agent.valid_until,
        granted_at=agent.granted_at,
        withdrawn_at=agent.withdrawn_at,
    )


# -- the operator ----------------------------------------------------------------------------


@router.post(
    "/v1/subjects/persons",
    summary="Enrol natural persons, each enrolled, unchanged or refused (Art. 34)",
    responses=problem_responses(401, 403, 422),
)
def enrol_persons_route(
    request: Request, session: DbSession, _caller: OperatorCaller, body: PersonsIn
) -> EnrolmentsOut:
    rows = [person.to_enrolment() for person in body.persons]
    results = enrol_batch(session, request.app.state.keys, rows, datetime.now(UTC))
    return EnrolmentsOut(
        results=[
            EnrolmentOut(
                outcome=result.outcome,
                account_id=result.account_id,
                problem=_problem(result.problem),
            )
            for result in results
        ]
    )


@router.post(
    "/v1/subjects/entities",
    summary="Enrol a legal person or unincorporated organization with its representative",
    responses=problem_responses(401, 403, 404, 422),
)
def enrol_entity_route(
    session: DbSession, _caller: OperatorCaller, body: EntityIn, response: Response
) -> EnrolmentOut:
    enrolment = EntityEnrolment(body.credit_code, body.name, body.kind.value, body.representative)
    result = enrol_entity(session, enrolment, datetime.now(UTC))
    response.status_code = 201 if result.outcome is EnrolmentOutcome.ENROLLED else 200
    return EnrolmentOut(outcome=result.outcome, account_id=result.account_id)


# -- the person and the entities they act for ------------------------------------------------


@router.get(
    "/v1/me/entities",
    summary="The legal persons and organizations I may act for, and as what",
    responses=problem_responses(401, 403),
    tags=["citizens"],
)
def my_entities(session: DbSession, caller: CitizenReader) -> EntitiesOut:
    now = datetime.now(UTC)
    return EntitiesOut(
        entities=[
            EntityOut(
                entity_id=authority.entity.id,
                credit_code=authority.entity.credit_code,
                name=authority.entity.name,
                kind=authority.entity.kind,
                role=authority.role,
                valid_until=authority.agent.valid_until if authority.agent else None,
            )
            for authority in authorities_of(session, caller.subject, now)
        ]
    )


@router.post(
    "/v1/me/acting-token",
    summary="An access token acting for an entity I represent or am an agent of (Art. 61(2))",
    responses=problem_responses(401, 403, 422),
    tags=["citizens"],
)
def acting_token(
    server: Server, session: DbSession, caller: CitizenCaller, body: ActingIn
) -> CitizenToken:
    if caller.acting_for is not None:
        raise InvalidInput("sign in as yourself to act for another entity")
    now = datetime.now(UTC)
    authority = authority_for(session, caller.subject, body.entity_id, now)
    citizen = session.get(Citizen, caller.subject)
    assert citizen is not None  # the authority was found for this account
    return CitizenToken.model_validate(citizen_token(server, citizen, now, authority.entity.id))


@router.get(
    "/v1/me/entities/{entity_id}/agents",
    summary="The agents of an entity I am the legal representative of",
    responses=problem_responses(401, 403, 404),
    tags=["citizens"],
)
def entity_agents(session: DbSession, caller: CitizenCaller, entity_id: AccountId) -> AgentsOut:
    listed = agents_of(session, caller.subject, entity_id, datetime.now(UTC))
    return AgentsOut(agents=[_agent_out(agent, person) for agent, person in listed])


@router.post(
    "/v1/me/entities/{entity_id}/agents",
    status_code=201,
    summary="Authorize an agent to act for the entity (the legal representative only)",
    responses=problem_responses(401, 403, 404, 422),
    tags=["citizens"],
)
def authorize_agent(
    session: DbSession, caller: CitizenCaller, entity_id: AccountId, body: AgentIn
) -> AgentOut:
    grant = AgentGrant(body.agent, body.document_reference, body.valid_from, body.valid_until)
    agent = grant_agent(session, caller.subject, entity_id, grant, datetime.now(UTC))
    return _agent_out(agent, session.get(Citizen, agent.citizen_id))


@router.post(
    "/v1/me/entities/{entity_id}/agents/{agent_id}/withdrawal",
    summary="Withdraw an agent's authorization; it ends at once",
    responses=problem_responses(401, 403, 404),
    tags=["citizens"],
)
def withdraw_agent_route(
    session: DbSession, caller: CitizenCaller, entity_id: AccountId, agent_id: AgentId
) -> AgentOut:
    agent = withdraw_agent(session, caller.subject, entity_id, agent_id, datetime.now(UTC))
    return _agent_out(agent, session.get(Citizen, agent.citizen_id))
