"""The console's sign-in over HTTP: password and TOTP code, each code once, CSRF tokens, sessions
of its own; every page fails closed to the sign-in page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import update

from gateway.console.models import RegulatorOfficer
from gateway.console.site import NAV_ITEMS
from gateway.portal.sessions import OVERSIGHT_COOKIE, PORTAL_COOKIE, PortalSession, seal
from gateway.security_headers import PORTAL_CSP
from gateway.storage.db import unit_of_work
from tests.gateway.consents.factories import Flow, totp_codes
from tests.gateway.console.factories import (
    SIGN_IN_PAGE,
    officer,
    sign_in,
    signed_in_officer,
)
from tests.gateway.portal.factories import (
    assert_accessible_page,
    assert_strict_session_cookie,
    signed_in,
    submit,
    visitor,
)

PAGES = [path for _, path in NAV_ITEMS]


def test_the_sign_in_page_sets_a_strict_cookie_of_its_own_under_a_strict_csp(flow: Flow) -> None:
    response = visitor(flow).get(SIGN_IN_PAGE)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == PORTAL_CSP
    assert_strict_session_cookie(response, OVERSIGHT_COOKIE.name, OVERSIGHT_COOKIE.path)
    assert_accessible_page(response.text)


def test_every_page_sends_a_visitor_to_sign_in(flow: Flow) -> None:
    client = visitor(flow)
    for path in PAGES:
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, SIGN_IN_PAGE)


def test_an_officer_signs_in_with_password_and_code_and_sees_the_console(flow: Flow) -> None:
    client = signed_in_officer(flow)
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-security-policy"] == PORTAL_CSP
        assert_accessible_page(response.text)


def test_a_wrong_code_password_or_account_gets_one_answer(flow: Flow) -> None:
    account = officer(flow)
    client = visitor(flow)
    _, current, _ = totp_codes(account.totp_secret)
    wrong_code = "000000" if current != "000000" else "111111"
    answers = [
        sign_in(client, account.username, account.password, wrong_code),
        sign_in(client, account.username, "not-the-password", current),
        sign_in(client, "no.such.officer", account.password, current),
    ]
    assert [answer.status_code for answer in answers] == [400, 400, 400]
    for answer in answers:
        assert "用户名、密码或验证码不正确" in answer.text
    assert client.get("/oversight", follow_redirects=False).status_code == 303


def test_a_code_is_accepted_once(flow: Flow) -> None:
    account = officer(flow)
    _, current, _ = totp_codes(account.totp_secret)
    first = sign_in(visitor(flow), account.username, account.password, current)
    assert first.headers["location"] == "/oversight"
    again = sign_in(visitor(flow), account.username, account.password, current)
    assert again.status_code == 400
    assert "用户名、密码或验证码不正确" in again.text


def test_forms_without_the_sessions_token_are_refused(flow: Flow) -> None:
    account = officer(flow)
    client = visitor(flow)
    client.get(SIGN_IN_PAGE)
    _, current, _ = totp_codes(account.totp_secret)
    for token in ("", "forged"):
        form = {
            "csrf_token": token,
            "username": account.username,
            "password": account.password,
            "code": current,
        }
        response = client.post("/oversight/session", data=form)
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/html")
        assert "表单已失效" in response.text
    client = signed_in_officer(flow)
    response = client.post("/oversight/sign-out", data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert client.get("/oversight").status_code == 200


def test_signing_out_ends_the_session_even_for_a_copied_cookie(flow: Flow) -> None:
    client = signed_in_officer(flow)
    copied = client.cookies[OVERSIGHT_COOKIE.name]
    response = submit(client, "/oversight/sign-out", page="/oversight")
    assert response.headers["location"] == f"{SIGN_IN_PAGE}?notice=signed_out"
    client.cookies.clear()
    client.cookies.set(OVERSIGHT_COOKIE.name, copied, path="/oversight")
    response = client.get("/oversight", follow_redirects=False)
    assert response.headers["location"] == f"{SIGN_IN_PAGE}?notice=expired"


def test_a_disabled_officers_session_ends_at_the_next_request(flow: Flow) -> None:
    client = signed_in_officer(flow)
    with unit_of_work(flow.engine) as session:
        session.execute(update(RegulatorOfficer).values(disabled=True))
    try:
        response = client.get("/oversight", follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, SIGN_IN_PAGE)
    finally:
        with unit_of_work(flow.engine) as session:
            session.execute(update(RegulatorOfficer).values(disabled=False))


def test_a_citizens_session_does_not_open_the_console(flow: Flow) -> None:
    """Neither the citizen's portal cookie nor a portal session planted under the console's
    cookie name is a console session (RFC 8725 section 3.11)."""
    client = signed_in(flow)
    assert client.get("/oversight", follow_redirects=False).status_code == 303
    keyring = flow.client.app.state.auth_server.keyring  # type: ignore[attr-defined]
    planted = PortalSession.start(
        datetime.now(UTC), timedelta(minutes=30), officer(flow).officer_id
    )
    client.cookies.set(
        OVERSIGHT_COOKIE.name, seal(planted, keyring, PORTAL_COOKIE), path="/oversight"
    )
    assert client.get("/oversight", follow_redirects=False).status_code == 303
    client.cookies.set(
        OVERSIGHT_COOKIE.name, seal(planted, keyring, OVERSIGHT_COOKIE), path="/oversight"
    )
    assert client.get("/oversight").status_code == 200  # the control: the console's own type
