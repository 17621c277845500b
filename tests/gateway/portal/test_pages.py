"""The portal over HTTP: sessions, CSRF, sign-in, and decisions through the consent service."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bench.passkey import SoftPasskey
from consent.passwords import CitizenPasswords
from gateway.app import create_app
from gateway.consents.written_consent import written_consent_texts
from gateway.demo import demo_id_number
from gateway.parties.models import Citizen
from gateway.portal.sessions import SESSION_COOKIE, PortalSession, seal
from gateway.security_headers import PORTAL_CSP
from gateway.settings import Settings
from gateway.storage import migrate
from gateway.storage.db import unit_of_work
from tests.gateway.consents.factories import (
    OTHER_PERSON,
    Flow,
    consent_request,
    mortgage_request,
    totp_codes,
)
from tests.gateway.portal.factories import (
    SIGN_IN_PAGE,
    assert_accessible_page,
    assert_strict_session_cookie,
    citizen_id,
    csrf_token,
    decide,
    passkey_button,
    sign_in,
    signed_in,
    submit,
    visitor,
)

TEXT_VERSION = written_consent_texts().version


def _state(flow: Flow, grant_id: str) -> dict[str, object]:
    """The grant as the establishment sees it through the API."""
    response = flow.client.get(f"/v1/consents/{grant_id}", headers=flow.headers("establishment"))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


# -- sessions, cookies, headers ------------------------------------------------------------


def test_the_sign_in_page_sets_a_strict_session_cookie_under_a_strict_csp(flow: Flow) -> None:
    response = visitor(flow).get(SIGN_IN_PAGE)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == PORTAL_CSP
    assert_strict_session_cookie(response, SESSION_COOKIE, "/portal")
    assert_accessible_page(response.text)


def test_pages_need_a_session_and_send_visitors_to_sign_in(flow: Flow) -> None:
    client = visitor(flow)
    for path in ("/portal/requests", "/portal/consents", "/portal/consents/cg_x/revoke"):
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, SIGN_IN_PAGE)


def test_an_expired_session_leads_to_the_sign_in_page(flow: Flow) -> None:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    expired = PortalSession.start(an_hour_ago, timedelta(minutes=30), citizen_id(flow))
    keyring = flow.client.app.state.auth_server.keyring  # type: ignore[attr-defined]
    client = visitor(flow)
    client.cookies.set(SESSION_COOKIE, seal(expired, keyring), path="/portal")
    response = client.get("/portal/consents", follow_redirects=False)
    assert response.headers["location"] == f"{SIGN_IN_PAGE}?notice=expired"
    assert "您的登录已过期" in client.get(response.headers["location"]).text


def test_signing_out_ends_the_session_even_for_a_copied_cookie(flow: Flow) -> None:
    client = signed_in(flow)
    copied = client.cookies[SESSION_COOKIE]
    response = submit(client, "/portal/sign-out")
    assert response.headers["location"] == f"{SIGN_IN_PAGE}?notice=signed_out"
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, copied, path="/portal")
    response = client.get("/portal/requests", follow_redirects=False)
    assert response.headers["location"] == f"{SIGN_IN_PAGE}?notice=expired"


# -- sign-in ---------------------------------------------------------------------------------


def test_a_failed_sign_in_does_not_tell_whether_the_account_exists(
    flow: Flow, caplog: pytest.LogCaptureFixture
) -> None:
    client = visitor(flow)
    username = flow.credentials["citizen"]["username"]
    with caplog.at_level(logging.DEBUG):
        wrong_password = sign_in(client, username, "not-the-password")
        unknown_account = sign_in(client, "no.such.person", "not-the-password")
    assert wrong_password.status_code == unknown_account.status_code == 400
    assert "用户名或密码不正确" in unknown_account.text
    assert wrong_password.text.replace(username, "?") == unknown_account.text.replace(
        "no.such.person", "?"
    )
    assert "not-the-password" not in caplog.text and username not in caplog.text


def test_sign_in_without_the_forms_token_is_refused(flow: Flow) -> None:
    client = visitor(flow)
    citizen = flow.credentials["citizen"]
    client.get(SIGN_IN_PAGE)
    for token in ("", "forged"):
        form = {"csrf_token": token, "username": citizen["username"], "password": "x"}
        response = client.post("/portal/session", data=form)
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/html")
        assert "表单已失效" in response.text


def test_signing_in_starts_a_new_session(flow: Flow) -> None:
    client = visitor(flow)
    before = csrf_token(client.get(SIGN_IN_PAGE).text)
    citizen = flow.credentials["citizen"]
    form = {"csrf_token": before, **citizen}
    response = client.post("/portal/session", data=form, follow_redirects=False)
    assert response.headers["location"] == "/portal/requests"
    assert csrf_token(client.get("/portal/requests").text) != before


# -- deciding --------------------------------------------------------------------------------


def test_approving_a_restricted_category_needs_its_written_consent(flow: Flow) -> None:
    grant_id = flow.pending(mortgage_request())
    client = signed_in(flow)
    approve = f"/portal/requests/{grant_id}/approve"
    page = submit(client, approve, {"categories": ["basic", "income"]})
    assert page.status_code == 200 and "书面同意" in page.text
    assert written_consent_texts().texts["income"].zh in page.text
    assert_accessible_page(page.text)
    assert _state(flow, grant_id)["state"] == "pending"

    unconfirmed = {"categories": ["basic", "income"], "step": "written-consent"}
    page = submit(client, approve, {**unconfirmed, "text_version": TEXT_VERSION})
    assert "每个受限类别都需要勾选确认" in page.text
    assert _state(flow, grant_id)["state"] == "pending"

    confirmed = {**unconfirmed, "text_version": TEXT_VERSION, "written_consent": ["income"]}
    response = decide(client, flow, approve, confirmed)
    assert response.headers["location"] == "/portal/consents?notice=approved"
    grant = _state(flow, grant_id)
    assert grant["state"] == "active"
    assert grant["granted_categories"] == ["basic", "income"]
    written = grant["written_consents"]
    assert isinstance(written, list) and [w["category"] for w in written] == ["income"]
    assert written[0]["text_version"] == TEXT_VERSION


def test_an_outdated_consequences_text_is_refused_by_the_service(flow: Flow) -> None:
    grant_id = flow.pending(mortgage_request())
    client = signed_in(flow)
    form = {"categories": ["income"], "written_consent": ["income"], "text_version": "wc-old"}
    response = submit(client, f"/portal/requests/{grant_id}/approve", form)
    assert response.status_code == 403
    assert "Art. 62" in response.text
    assert _state(flow, grant_id)["state"] == "pending"


def test_the_citizen_may_approve_only_some_categories(flow: Flow) -> None:
    grant_id = flow.pending(consent_request())
    client = signed_in(flow)
    response = decide(
        client, flow, f"/portal/requests/{grant_id}/approve", {"categories": ["basic"]}
    )
    assert response.status_code == 303
    assert _state(flow, grant_id)["granted_categories"] == ["basic"]


def test_approving_nothing_is_refused(flow: Flow) -> None:
    grant_id = flow.pending(consent_request())
    response = submit(signed_in(flow), f"/portal/requests/{grant_id}/approve")
    assert response.status_code == 422
    assert "请至少选择一个信息类别" in response.text
    assert _state(flow, grant_id)["state"] == "pending"


def test_reject_pause_resume_and_revoke(flow: Flow) -> None:
    rejected, active = flow.pending(consent_request()), flow.active()
    client = signed_in(flow)
    decide(client, flow, f"/portal/requests/{rejected}/reject")
    assert _state(flow, rejected)["state"] == "rejected"
    paused = submit(client, f"/portal/consents/{active}/pause", page="/portal/consents")
    assert paused.headers["location"] == "/portal/consents?notice=paused"
    assert _state(flow, active)["state"] == "paused"
    for action, state in (("resume", "active"), ("revoke", "revoked")):
        response = decide(client, flow, f"/portal/consents/{active}/{action}")
        assert response.headers.get("location") == f"/portal/consents?notice={action}d", (
            response.text
        )
        assert _state(flow, active)["state"] == state


def test_revoking_asks_for_one_confirmation_first(flow: Flow) -> None:
    grant_id = flow.active()
    client = signed_in(flow)
    page = client.get(f"/portal/consents/{grant_id}/revoke")
    assert page.status_code == 200 and "确认撤回" in page.text
    assert_accessible_page(page.text)
    assert _state(flow, grant_id)["state"] == "active"


def test_a_form_without_the_sessions_token_changes_nothing(flow: Flow) -> None:
    grant_id = flow.active()
    client = signed_in(flow)
    for token in (None, "forged"):
        form = {} if token is None else {"csrf_token": token}
        response = client.post(f"/portal/consents/{grant_id}/revoke", data=form)
        assert response.status_code == 403
        assert response.headers["content-security-policy"] == PORTAL_CSP
    assert _state(flow, grant_id)["state"] == "active"


def test_an_establishment_cannot_reach_the_portals_actions(flow: Flow) -> None:
    grant_id = flow.pending(consent_request())
    client = visitor(flow)
    token = csrf_token(client.get(SIGN_IN_PAGE).text)
    response = client.post(
        f"/portal/requests/{grant_id}/approve",
        data={"csrf_token": token, "categories": ["basic"]},
        headers=flow.headers("establishment"),
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, SIGN_IN_PAGE)
    assert _state(flow, grant_id)["state"] == "pending"


def test_another_subjects_grant_is_not_found(flow: Flow) -> None:
    other = flow.pending(consent_request(subject={"kind": "id_number", "value": OTHER_PERSON}))
    response = submit(signed_in(flow), f"/portal/consents/{other}/revoke")
    assert response.status_code == 404
    assert "未找到该授权" in response.text


def test_the_receipt_downloads_as_the_apis_signed_receipt(flow: Flow) -> None:
    grant_id = flow.active()
    response = signed_in(flow).get(f"/portal/consents/{grant_id}/receipt")
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="consent-receipt-{grant_id}.json"'
    api = flow.client.get(f"/v1/me/consents/{grant_id}/receipt", headers=flow.headers("citizen"))
    assert response.json().keys() == api.json().keys() == {"receipt", "jws"}
    assert response.json()["receipt"]["grantId"] == grant_id


def test_pages_show_no_identifier_and_label_every_control(flow: Flow) -> None:
    flow.pending(mortgage_request())
    flow.active()
    client = signed_in(flow)
    for path in ("/portal/requests", "/portal/consents"):
        response = client.get(path)
        assert response.status_code == 200
        assert flow.citizen_id_number not in response.text
        assert_accessible_page(response.text)


def test_the_language_switch_persists_and_only_returns_into_the_portal(flow: Flow) -> None:
    client = signed_in(flow)
    response = client.get("/portal/language/en?next=/portal/consents", follow_redirects=False)
    assert response.headers["location"] == "/portal/consents"
    assert "HttpOnly" in response.headers["set-cookie"]
    page = client.get("/portal/consents")
    assert "My consents" in page.text
    assert_accessible_page(page.text, lang="en")
    for outside in ("https://evil.example/", "//evil.example/portal/", "/v1/me/consents"):
        escaped = client.get("/portal/language/zh", params={"next": outside})
        assert escaped.status_code == 422
    client.get("/portal/language/zh")
    assert "我的授权" in client.get("/portal/consents").text


def test_sign_in_attempts_are_rate_limited_per_ip(tmp_path: Path) -> None:
    settings = Settings(
        var_dir=tmp_path / "var",
        database_url=f"sqlite:///{tmp_path / 'gateway.db'}",
        rate_limit_sign_in="2/minute",
        _env_file=None,
    )
    migrate.upgrade(settings.resolved_database_url)
    with TestClient(create_app(settings)) as client:
        codes = [sign_in(client, "no.such.person", "x").status_code for _ in range(3)]
        assert codes == [400, 400, 429]
        refused = sign_in(client, "no.such.person", "x")
        assert "尝试次数过多" in refused.text
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert client.get(SIGN_IN_PAGE).status_code == 200


# -- the second factor -------------------------------------------------------------------------


def test_a_decision_without_the_second_factor_is_refused_and_changes_nothing(flow: Flow) -> None:
    grant_id = flow.pending(consent_request())
    client = signed_in(flow)
    before = len(flow.audit_events(grant_id))
    response = submit(client, f"/portal/requests/{grant_id}/approve", {"categories": ["basic"]})
    assert response.status_code == 403
    assert "Art. 61(2)" in response.text and "第二重验证" in response.text
    assert _state(flow, grant_id)["state"] == "pending"
    denied = flow.audit_events(grant_id)[before:]
    assert [(e.outcome.value, e.reason_code) for e in denied] == [
        ("denied", "second_factor_required")
    ]


def test_a_new_citizen_enrols_a_totp_app_in_the_portal_and_decides_with_its_codes(
    flow: Flow,
) -> None:
    """The first sign-in leads to enrolment; the key is shown with its otpauth URI; a first
    code confirms it; each later code decides once."""
    id_number = demo_id_number("320111", "19810911", "415")
    with unit_of_work(flow.engine) as session:
        session.add(
            Citizen(
                username="zhao.min",
                id_number=id_number,
                password_hash=CitizenPasswords().hash("zhao-min-password"),
                real_name_verified=True,
            )
        )
    grant_id = flow.pending(consent_request(subject={"kind": "id_number", "value": id_number}))
    client = visitor(flow)
    response = sign_in(client, "zhao.min", "zhao-min-password")
    assert response.headers["location"] == "/portal/factors?notice=enrol_factor"
    page = client.get("/portal/factors")
    assert_accessible_page(page.text)
    assert 'data-passkey-ceremony="registration"' in page.text

    provisioned = submit(client, "/portal/factors/totp", page="/portal/factors")
    assert provisioned.status_code == 200
    assert_accessible_page(provisioned.text)
    secret = re.search(r'<code class="secret">([A-Z2-7]{32})</code>', provisioned.text)
    assert secret is not None and "otpauth://totp/" in provisioned.text
    confirm = re.search(r'action="(/portal/factors/totp/fa_[^"]+/confirmation)"', provisioned.text)
    assert confirm is not None
    earlier, current, later = totp_codes(secret.group(1))
    confirmed = submit(client, confirm.group(1), {"code": earlier}, page="/portal/factors")
    assert confirmed.headers["location"] == "/portal/requests?notice=factor_enrolled"

    requests_page = client.get("/portal/requests").text
    assert 'name="totp_code"' in requests_page and "data-passkey-challenge" not in requests_page
    approve = f"/portal/requests/{grant_id}/approve"
    approved = submit(client, approve, {"categories": ["basic"], "totp_code": current})
    assert approved.headers["location"] == "/portal/consents?notice=approved"
    assert _state(flow, grant_id)["state"] == "active"
    revoke = f"/portal/consents/{grant_id}/revoke"
    replayed = submit(client, revoke, {"totp_code": current}, page=revoke)
    assert replayed.status_code == 403 and "Art. 61(2)" in replayed.text
    assert _state(flow, grant_id)["state"] == "active"

    # A passkey besides: the authenticator's code first, then the browser creates it.
    factors_page = client.get("/portal/factors").text
    assert "/portal/factors/passkeys/options" in factors_page
    assert_accessible_page(factors_page)
    options_page = submit(
        client, "/portal/factors/passkeys/options", {"totp_code": later}, page="/portal/factors"
    )
    assert options_page.status_code == 200
    challenge, options = passkey_button(options_page.text, "/portal/factors/passkeys")
    passkey = SoftPasskey(flow.settings.base_url)
    form = {
        "passkey_challenge": challenge,
        "passkey_credential": json.dumps(passkey.create(options)),
    }
    added = submit(client, "/portal/factors/passkeys", form, page="/portal/factors")
    assert added.headers["location"] == "/portal/requests?notice=factor_enrolled"
    assert "通行密钥" in client.get("/portal/factors").text
