"""The portal's pages for every kind of credit subject (Art. 34, 39, 61(2), 66):

* signing in with the provincial identity provider (OpenID Connect, :mod:`gateway.parties.oidc`):
  ``/portal/oidc/start`` sends the browser there, ``/portal/oidc/callback`` binds the enrolled
  account whose identity number the provider verified and starts a new session;
* choosing on whose behalf to act - oneself, or a legal person or organization one represents
  or is an authorized agent of (``/portal/acting``): every page then serves that subject, with
  the authority checked again at every request;
* applying for credit restoration of an untrustworthiness record of the file (Art. 66 para. 1),
  as ``POST /v1/me/restoration-applications`` does.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParam
from starlette.responses import Response

from gateway.deps import DbSession
from gateway.keys import Document
from gateway.parties.accounts import authorities_of, authority_for
from gateway.parties.oidc import (
    IdentityProvider,
    OidcSignInFailed,
    seal_transaction,
    unseal_transaction,
    verified_citizen,
)
from gateway.portal.deps import (
    Caller,
    PortalPages,
    PortalRoute,
    SignedIn,
    SignedInForm,
    keep,
    secure_cookies,
    start_session,
)
from gateway.portal.pages import HOME, redirect
from gateway.rights import restoration
from gateway.routes.rights import Desk as RightsDesk
from gateway.validation import Identifier, Text
from problems import NotFound

router = APIRouter(prefix="/portal", include_in_schema=False, route_class=PortalRoute)
TRANSACTION_COOKIE = "portal_oidc"
TRANSACTION_PATH = "/portal/oidc"
ACTING = "/portal/acting"
RecordId = Annotated[Identifier, PathParam(pattern=r"^rec_[0-9a-f]{32}$")]
CallbackParam = Annotated[Identifier, Query(max_length=2048)]


class OidcNotConfigured(NotFound):
    title = "No identity provider"
    slug = "oidc-not-configured"


def identity_provider(request: Request) -> IdentityProvider:
    provider: IdentityProvider | None = getattr(request.app.state, "identity_provider", None)
    if provider is None:
        raise OidcNotConfigured("sign-in through an identity provider is not configured")
    return provider


# -- the provincial identity provider --------------------------------------------------------


@router.get("/oidc/start")
def oidc_start(request: Request) -> Response:
    """Send the browser to the identity provider, keeping the transaction in its cookie."""
    provider = identity_provider(request)
    url, transaction = provider.start(datetime.now(UTC))
    response = redirect(url)
    response.set_cookie(
        TRANSACTION_COOKIE,
        seal_transaction(transaction, request.app.state.auth_server.keyring),
        max_age=600,
        path=TRANSACTION_PATH,
        secure=secure_cookies(request),
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/oidc/callback")
def oidc_callback(
    request: Request,
    pages: PortalPages,
    db: DbSession,
    code: CallbackParam = "",
    state: CallbackParam = "",
) -> Response:
    """Bind the enrolled account the provider verified; a new session starts. The page goes
    on to the portal by itself: the redirect back from the provider was a cross-site
    navigation, after which the browser would not send the new (``SameSite=Strict``) session
    cookie with a redirect, but does with this same-site navigation."""
    provider = identity_provider(request)
    sealed = request.cookies.get(TRANSACTION_COOKIE)
    if not sealed or not code:
        raise OidcSignInFailed("the sign-in is not the one started here")
    now = datetime.now(UTC)
    keys = request.app.state.auth_server.verifying(
        Document.PORTAL_SESSION, request.app.state.engine, now
    )
    transaction = unseal_transaction(sealed, keys)
    number = provider.finish(code, state, transaction, now)
    citizen = verified_citizen(db, number)
    start_session(request, citizen.id)
    response = pages.render("signed_in.html", next_url=HOME)
    response.delete_cookie(TRANSACTION_COOKIE, path=TRANSACTION_PATH)
    return response


# -- on whose behalf ---------------------------------------------------------------------------


@router.get("/acting")
def acting_page(pages: PortalPages, session: SignedIn, db: DbSession) -> Response:
    assert session.account_id is not None
    authorities = authorities_of(db, session.account_id, datetime.now(UTC))
    return pages.render(
        "acting.html", nav="acting", authorities=authorities, current=session.acting_for
    )


@router.post("/acting")
def choose_acting(
    request: Request,
    session: SignedInForm,
    db: DbSession,
    entity_id: Annotated[Identifier, Form(pattern=r"^([0-9a-f]{32})?$")] = "",
) -> Response:
    """Act for oneself (empty) or for an entity one has authority for now."""
    assert session.account_id is not None
    if entity_id:
        authority_for(db, session.account_id, entity_id, datetime.now(UTC))
    keep(request, replace(session, acting_for=entity_id or None))
    return redirect(f"{HOME}?notice=acting_changed")


# -- restoration (Art. 66 para. 1) -------------------------------------------------------------


@router.post("/credit-report/{record_id}/restoration")
def apply_for_restoration(
    caller: Caller,
    _form: SignedInForm,
    rights: RightsDesk,
    record_id: RecordId,
    reason: Annotated[Text, Form(max_length=500)] = "",
) -> Response:
    application = restoration.Application(record_id, reason)
    restoration.apply_for_restoration(rights, caller, application)
    return redirect("/portal/credit-report?notice=restoration_applied")
