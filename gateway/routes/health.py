"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from gateway.deps import DbEngine, LoadedKeys
from gateway.problem_handlers import problem_responses
from gateway.storage.migrate import require_current
from gateway.validation import StrictRoute
from problems import GatewayError, ServiceUnavailable

router = APIRouter(route_class=StrictRoute, tags=["health"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    database: Literal["reachable"] = "reachable"
    migrations: Literal["current"] = "current"
    signing_keys: Literal["loaded"] = "loaded"


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    summary="Readiness: database reachable, migrations current, signing keys loaded",
    responses=problem_responses(503),
)
def readyz(engine: DbEngine, keys: LoadedKeys) -> Readiness:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        raise ServiceUnavailable("database unreachable") from exc
    try:
        require_current(engine)
    except GatewayError as exc:
        raise ServiceUnavailable("database schema is not at the latest migration") from exc
    if keys is None:
        raise ServiceUnavailable("signing keys are not loaded")
    return Readiness()
