"""What every console route is served with, besides a site's (:mod:`gateway.portal.deps`):
the signed-in officer, looked up on every request, so a disabled account's session ends at
its next request. A form of the console takes :data:`Officer` and the site's ``SignedInForm``
(its CSRF token). A route without :data:`Officer` is one a visitor may use: the sign-in page
and form, the language switch, signing out."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from gateway.console.models import RegulatorOfficer
from gateway.console.officers import active_officer
from gateway.deps import DbSession
from gateway.portal.deps import SignedIn, SignInRequired


def _officer(session: SignedIn, db: DbSession) -> RegulatorOfficer:
    officer = None if session.account_id is None else active_officer(db, session.account_id)
    if officer is None:
        raise SignInRequired("sign in as a regulator officer")
    return officer


Officer = Annotated[RegulatorOfficer, Depends(_officer)]
"""The signed-in, enabled regulator officer."""
