"""What every console route is served with, besides a site's (:mod:`gateway.portal.deps`):
the signed-in officer, looked up on every request, so a disabled account's session ends at
its next request. A route without :data:`Officer` (or :data:`OfficerForm`) is one a visitor
may use: the sign-in page and form, the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from gateway.console.models import RegulatorOfficer
from gateway.console.officers import active_officer
from gateway.deps import DbSession
from gateway.portal.deps import SignedIn, SignedInForm, SignInRequired
from gateway.portal.sessions import PortalSession


def _officer(session: SignedIn, db: DbSession) -> RegulatorOfficer:
    officer = None if session.account_id is None else active_officer(db, session.account_id)
    if officer is None:
        raise SignInRequired("sign in as a regulator officer")
    return officer


Officer = Annotated[RegulatorOfficer, Depends(_officer)]
"""The signed-in, enabled regulator officer."""


def _officer_form(session: SignedInForm, _officer: Officer) -> PortalSession:
    return session


OfficerForm = Annotated[PortalSession, Depends(_officer_form)]
"""A form posted by the signed-in officer, with the session's CSRF token."""
