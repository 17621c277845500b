"""An establishment's webhook delivery log: every notification sent to it (consent lifecycle
events, Art. 61(2); deletion notices, Art. 67), with its attempts and outcome. The bodies
themselves are not repeated here; each was a signed JWS (see :mod:`gateway.webhooks`)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from gateway.auth import EstablishmentCaller
from gateway.deps import DbSession
from gateway.problem_handlers import problem_responses
from gateway.validation import StrictRoute
from gateway.webhooks.repository import deliveries_to

router = APIRouter(route_class=StrictRoute, tags=["webhooks"])


class Delivery(BaseModel):
    id: str
    event: str
    created_at: datetime
    attempts: int
    last_attempt_at: datetime | None
    last_status: int | None
    delivered_at: datetime | None
    next_attempt_at: datetime | None


class Deliveries(BaseModel):
    deliveries: list[Delivery]


@router.get(
    "/v1/webhook-deliveries",
    summary="My webhook deliveries: each notification, its attempts and outcome",
    responses=problem_responses(401, 403),
)
def webhook_deliveries(session: DbSession, caller: EstablishmentCaller) -> Deliveries:
    rows = deliveries_to(session, caller.client_id)
    return Deliveries(
        deliveries=[Delivery.model_validate(row, from_attributes=True) for row in rows]
    )
