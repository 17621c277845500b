"""A citizen's notification preferences over HTTP: which channels (e-mail, SMS) and which
events (:mod:`gateway.notifications`)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request

from gateway.auth import CitizenReader
from gateway.deps import AppSettings, DbSession
from gateway.notifications import service
from gateway.notifications.schemas import PreferencesIn, PreferencesOut, preferences_out
from gateway.notifications.transports import available_channels
from gateway.problem_handlers import problem_responses
from gateway.validation import StrictRoute

router = APIRouter(route_class=StrictRoute, tags=["citizens"])
PATH = "/v1/me/notification-preferences"


@router.get(PATH, summary="How and of what I am told", responses=problem_responses(401, 403))
def my_preferences(db: DbSession, caller: CitizenReader, settings: AppSettings) -> PreferencesOut:
    row = service.preferences(db, caller.subject)
    return preferences_out(row, available_channels(settings))


@router.put(
    PATH,
    summary="Choose how and of what I am told: consent requests, expiring consents, inquiries "
    "(at once or daily), objection answers, deletion acknowledgements, reports issued",
    responses=problem_responses(401, 403, 422),
)
def choose_preferences(
    request: Request,
    db: DbSession,
    caller: CitizenReader,
    settings: AppSettings,
    body: PreferencesIn,
) -> PreferencesOut:
    keys = request.app.state.keys
    row = service.choose(db, keys, caller.subject, body.to_choice(), datetime.now(UTC))
    return preferences_out(row, available_channels(settings))
