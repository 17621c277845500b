"""Typed dependencies shared by the routes: the request's unit of work, settings, keys.

Those that only read the application's state are ``async``: FastAPI runs them on the event
loop rather than handing each to a worker thread."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session

from gateway.audit_log.service import AuditLog
from gateway.keys import GatewayKeys
from gateway.settings import Settings
from gateway.storage.db import unit_of_work


async def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _db_session(engine: Annotated[Engine, Depends(_engine)]) -> Iterator[Session]:
    with unit_of_work(engine) as session:
        yield session


async def _keys(request: Request) -> GatewayKeys | None:
    keys: GatewayKeys | None = getattr(request.app.state, "keys", None)
    return keys


async def _audit_log(request: Request) -> AuditLog:
    audit_log: AuditLog = request.app.state.audit_log
    return audit_log


DbEngine = Annotated[Engine, Depends(_engine)]
# scope="function": the unit of work commits before the response is sent, never after — a
# client told "revoked" or "stored" can rely on it, and a failed commit becomes the answer.
DbSession = Annotated[Session, Depends(_db_session, scope="function")]
AppSettings = Annotated[Settings, Depends(_settings)]
LoadedKeys = Annotated[GatewayKeys | None, Depends(_keys)]
AuditService = Annotated[AuditLog, Depends(_audit_log)]
