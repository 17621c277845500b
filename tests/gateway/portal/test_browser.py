"""The citizen portal in Debian's Chromium (headless, the system browser): signing in,
enrolling a passkey after the first sign-in and deciding with it (the DevTools virtual
authenticator: CTAP2, internal, resident keys, user verification), deciding with a written
consent, revoking, the establishment's inquiries before and after, the access log verified,
keyboard-only use and the language switch, a credit report issued, downloaded (its PDF read
back) and withdrawn. Served as ``localhost`` (a WebAuthn relying party is a domain).
Screenshots of every page go to ``var/test-artifacts/portal/``. SQLite only: the HTTP tests
cover both backends."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from fastapi import FastAPI
from playwright.sync_api import Browser, CDPSession, Page, expect

from bench.passkey import SoftPasskey, seed_passkey
from consent.passwords import CitizenPasswords
from gateway import demo
from gateway.app import create_app
from gateway.demo import demo_id_number
from gateway.parties.models import Citizen
from gateway.storage.db import unit_of_work
from tests.browser import bearer, chromium, screenshot, site_settings, strict_page, tab_to
from tests.gateway.consents.factories import consent_request, mortgage_request
from tests.gateway.factories import demo_credentials
from tests.gateway.rights.factories import pdf_text
from tests.live import ARTIFACTS, free_port, serve

SHOTS = ARTIFACTS / "portal"


@dataclass
class Live:
    """A gateway served on a real port, and the demo personas' API calls to it."""

    app: FastAPI
    base: str
    api: httpx.Client
    credentials: dict[str, Any]
    passkey: SoftPasskey
    sign_counts: Iterator[int] = field(default_factory=lambda: count(1000, 1000))

    def bank(self) -> dict[str, str]:
        return bearer(self.api, self.credentials["establishment"])

    def request_consent(self, body: dict[str, Any], id_number: str | None = None) -> str:
        body["subject"]["value"] = id_number or self.credentials["citizen"]["id_number"]
        response = self.api.post("/v1/consent-requests", json=body, headers=self.bank())
        assert response.status_code == 201, response.text
        grant_id: str = response.json()["grant_id"]
        return grant_id

    def grant(self, grant_id: str) -> dict[str, Any]:
        response = self.api.get(f"/v1/consents/{grant_id}", headers=self.bank())
        assert response.status_code == 200, response.text
        grant: dict[str, Any] = response.json()
        return grant

    def inquire(self, grant_id: str, categories: list[str]) -> httpx.Response:
        body = {
            "grant_id": grant_id,
            "subject": {"kind": "id_number", "value": self.credentials["citizen"]["id_number"]},
            "purpose": "mortgage_application",
            "categories": categories,
        }
        return self.api.post("/v1/inquiries/authorized", json=body, headers=self.bank())


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The gateway on localhost; the demo citizen holds a passkey (seeded as a registration
    stores it) that each test's virtual authenticator is given."""
    directory = tmp_path_factory.mktemp("portal-browser")
    port = free_port()
    settings = site_settings(directory, f"http://localhost:{port}")
    credentials = demo_credentials(settings)
    demo.seed_demo_archive(settings)
    app = create_app(settings)
    passkey = SoftPasskey(settings.base_url)
    seed_passkey(app.state.engine, credentials["citizen"]["username"], passkey)
    with serve(app, port, "localhost") as base, httpx.Client(base_url=base) as api:
        yield Live(app, base, api, credentials, passkey)
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def virtual_authenticator(page: Page) -> tuple[CDPSession, str]:
    """A platform authenticator of the DevTools protocol: CTAP2, internal, resident keys,
    the user verified, presence simulated."""
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    added = devtools.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    return devtools, str(added["authenticatorId"])


@pytest.fixture
def page(browser: Browser, live: Live) -> Iterator[Page]:
    """A fresh browser profile whose authenticator holds the demo citizen's passkey (its
    counter ahead of every earlier test's); no page may break the CSP."""
    with strict_page(browser) as page:
        devtools, authenticator = virtual_authenticator(page)
        key = live.passkey.key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        credential = {
            "credentialId": base64.b64encode(live.passkey.credential_id).decode(),
            "isResidentCredential": False,
            "rpId": "localhost",
            "privateKey": base64.b64encode(key).decode(),
            "signCount": next(live.sign_counts),
        }
        devtools.send(
            "WebAuthn.addCredential", {"authenticatorId": authenticator, "credential": credential}
        )
        yield page


def shot(page: Page, name: str) -> None:
    screenshot(page, SHOTS, name)


def sign_in(page: Page, live: Live) -> None:
    citizen = live.credentials["citizen"]
    page.goto(f"{live.base}/portal/sign-in")
    page.get_by_label("用户名").fill(citizen["username"])
    page.get_by_label("密码").fill(citizen["password"])
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live.base}/portal/requests")


def request_card(page: Page, grant_id: str) -> Any:
    return page.locator("article.card").filter(
        has=page.locator(f'form[action="/portal/requests/{grant_id}/approve"]')
    )


def test_approve_with_written_consent_inquire_revoke_and_see_it_verified(
    page: Page, live: Live
) -> None:
    grant_id = live.request_consent(mortgage_request())

    page.goto(f"{live.base}/portal/sign-in")
    shot(page, "sign-in")
    page.get_by_label("用户名").fill("zhang.wei")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_have_text("用户名或密码不正确。")
    shot(page, "sign-in-failed")

    sign_in(page, live)
    card = request_card(page, grant_id)
    expect(card).to_contain_text("Demo Province Rural Commercial Bank")
    expect(card).to_contain_text("个人住房按揭贷款审批")
    expect(card).to_contain_text("批准后 60 天")
    shot(page, "requests")

    card.get_by_label(re.compile("^不动产信息")).uncheck()
    card.get_by_role("button", name="批准所选类别").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("书面同意")
    expect(page.get_by_role("heading", name="收入信息")).to_be_visible()
    expect(page.get_by_role("heading", name="不动产信息")).to_have_count(0)
    shot(page, "written-consent")

    page.get_by_label(re.compile("书面同意该机构查询我的「收入信息」")).check()
    page.get_by_role("button", name="确认并批准").click()
    expect(page).to_have_url(f"{live.base}/portal/consents?notice=approved")
    expect(page.get_by_role("status")).to_have_text("已批准授权。")
    granted = live.grant(grant_id)
    assert (granted["state"], granted["granted_categories"]) == ("active", ["basic", "income"])
    assert [w["category"] for w in granted["written_consents"]] == ["income"]

    allowed = live.inquire(grant_id, ["basic", "income"])
    assert allowed.status_code == 200, allowed.text
    assert {item["scope_category"] for item in allowed.json()["items"]} == {"basic", "income"}
    assert live.inquire(grant_id, ["real_estate"]).status_code == 403

    page.reload()
    consent = page.locator("article.card").filter(has_text="个人住房按揭贷款审批").first
    expect(consent).to_contain_text("有效")
    expect(consent.locator(".uses-left")).to_have_text("2 / 3 次")
    shot(page, "consents")

    consent.get_by_role("link", name="撤回授权").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("确认撤回授权")
    shot(page, "revoke")
    page.get_by_role("button", name="确认撤回").click()
    expect(page.get_by_role("status")).to_contain_text("已撤回授权")
    assert live.grant(grant_id)["state"] == "revoked"
    shot(page, "consents-revoked")

    denied = live.inquire(grant_id, ["basic", "income"])
    assert denied.status_code == 403, denied.text

    live.app.state.audit_log.publish_now()
    page.get_by_role("link", name="谁查询了我的信息").click()
    inquiries = page.locator("table.log tbody tr").filter(has_text="查询 · 授权查询")
    expect(inquiries.filter(has_text="已准许")).to_have_count(1)
    expect(inquiries.filter(has_text="已拒绝").filter(has_text="授权已撤回")).to_have_count(1)
    for row in inquiries.all():
        expect(row.locator(".mark")).to_have_text("✓ 已验证")
    shot(page, "access-log")

    page.get_by_role("link", name="我的信用报告").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的信用报告")
    shot(page, "credit-report")

    page.goto(f"{live.base}/portal/consents/cg_unknown/revoke")
    expect(page.get_by_role("alert")).to_have_text("未找到该授权。")
    shot(page, "error")

    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("status")).to_have_text("您已安全退出。")


def test_keyboard_only_sign_in_and_approval(page: Page, live: Live) -> None:
    plain = live.request_consent(consent_request())
    restricted = live.request_consent({**mortgage_request(), "categories": ["basic", "income"]})
    citizen = live.credentials["citizen"]

    page.goto(f"{live.base}/portal/sign-in")
    tab_to(page, "#username")
    page.keyboard.type(citizen["username"])
    tab_to(page, "#password")
    page.keyboard.type(citizen["password"])
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live.base}/portal/requests")

    tab_to(page, f'form[action="/portal/requests/{plain}/approve"] input[value="untrustworthy"]')
    page.keyboard.press("Space")
    tab_to(page, f'form[action="/portal/requests/{plain}/approve"] button')
    shot(page, "keyboard-focus")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live.base}/portal/consents?notice=approved")
    assert live.grant(plain)["granted_categories"] == ["basic"]

    page.goto(f"{live.base}/portal/requests")
    tab_to(page, f'form[action="/portal/requests/{restricted}/approve"] button')
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("书面同意")
    tab_to(page, 'input[name="written_consent"]')
    page.keyboard.press("Space")
    tab_to(page, 'button[type="submit"].button')
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live.base}/portal/consents?notice=approved")
    assert live.grant(restricted)["granted_categories"] == ["basic", "income"]


def test_the_language_switch_persists_across_pages(page: Page, live: Live) -> None:
    live.request_consent(consent_request())
    sign_in(page, live)
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pending requests")
    shot(page, "requests-en")
    page.get_by_role("link", name="My consents").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My consents")
    shot(page, "consents-en")
    page.get_by_role("link", name="Who looked at my data").click()
    shot(page, "access-log-en")
    page.get_by_role("link", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("谁查询了我的信息")


def test_the_citizen_issues_downloads_and_withdraws_a_report(page: Page, live: Live) -> None:
    sign_in(page, live)
    page.get_by_role("link", name="开具信用报告").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("开具信用报告")
    page.get_by_label("招标投标").check()
    shot(page, "reports-form")
    page.get_by_role("button", name="开具信用报告").click()
    expect(page.get_by_role("status")).to_contain_text("信用报告已开具")
    card = page.locator("article.report").first
    number = card.locator("h3").inner_text()
    code = card.locator(".verification-code").inner_text()
    expect(card).to_contain_text("招标投标")
    shot(page, "reports-issued")

    with page.expect_download() as pdf_download:
        card.get_by_role("link", name="下载 PDF").click()
    text = pdf_text(pdf_download.value.path().read_bytes(), number)
    with page.expect_download() as json_download:
        card.get_by_role("link", name="下载签名 JSON").click()
    signed = json.loads(json_download.value.path().read_bytes())
    assert number in text and code in text and signed["report"]["use"] == "bidding"
    assert signed["report"]["items"], "the demo citizen's file has records"
    for item in signed["report"]["items"]:
        assert item["item_name"]["zh"] in text and item["source"] in text
    digest = hashlib.sha256(signed["jws"].encode()).hexdigest()
    assert " ".join([digest[:8], digest[8:16]]) in text

    checked = live.api.get(f"/v1/reports/{number}/verification", params={"code": code})
    assert checked.status_code == 200 and checked.json()["digest"] == digest
    wrong = live.api.get(f"/v1/reports/{number}/verification", params={"code": "0000-0001"})
    assert wrong.status_code == 404

    card.get_by_role("button", name="撤回报告").click()
    expect(page.get_by_role("status")).to_contain_text("报告已撤回")
    expect(page.locator("article.report").first).to_contain_text("已撤回")
    shot(page, "reports-withdrawn")
    checked = live.api.get(f"/v1/reports/{number}/verification", params={"code": code})
    assert checked.json()["status"] == "withdrawn"


def test_a_new_citizen_registers_a_passkey_after_signing_in_and_approves_with_it(
    browser: Browser, live: Live
) -> None:
    """Art. 61(2): the first sign-in leads to the factor page; the passkey created there by the
    virtual authenticator is what approves, and the bank's inquiry is then answered."""
    id_number = demo_id_number("320104", "19900215", "376")
    with unit_of_work(live.app.state.engine) as session:
        session.add(
            Citizen(
                username="wang.fang",
                id_number=id_number,
                password_hash=CitizenPasswords().hash("wang-fang-password"),
                real_name_verified=True,
            )
        )
    grant_id = live.request_consent(consent_request(), id_number)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1120, "height": 900})
    page = context.new_page()
    devtools, authenticator = virtual_authenticator(page)

    page.goto(f"{live.base}/portal/sign-in")
    page.get_by_label("用户名").fill("wang.fang")
    page.get_by_label("密码").fill("wang-fang-password")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live.base}/portal/factors?notice=enrol_factor")
    shot(page, "factors-enrol")

    page.get_by_role("button", name="创建通行密钥").click()
    expect(page).to_have_url(f"{live.base}/portal/requests?notice=factor_enrolled")
    created = devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert [c["rpId"] for c in created["credentials"]] == ["localhost"]
    assert created["credentials"][0]["isResidentCredential"] is True

    card = request_card(page, grant_id)
    expect(card.get_by_label("验证器应用中的 6 位动态码")).to_have_count(0)
    card.get_by_role("button", name="批准所选类别").click()
    expect(page).to_have_url(f"{live.base}/portal/consents?notice=approved")
    assert live.grant(grant_id)["state"] == "active"

    body = {
        "grant_id": grant_id,
        "subject": {"kind": "id_number", "value": id_number},
        "purpose": "post_loan_management",
        "categories": ["basic"],
    }
    answer = live.api.post("/v1/inquiries/authorized", json=body, headers=live.bank())
    assert answer.status_code == 200, answer.text
    assert {"leaf_index", "leaf_hash"} <= set(answer.json()["audit"])

    page.get_by_role("link", name="安全验证").click()
    expect(page.locator(".factor-list")).to_contain_text("通行密钥")
    shot(page, "factors")
    context.close()


def decide(card: Any, button: str) -> None:
    """Press a decision button of a request card: the step where the decision is confirmed."""
    card.get_by_role("button", name=button).click()


def test_the_legal_representative_approves_for_the_company(page: Page, live: Live) -> None:
    company = live.credentials["legal_person"]
    subject = {"kind": "credit_code", "value": company["credit_code"]}
    created = live.api.post(
        "/v1/consent-requests", json=consent_request(subject=subject), headers=live.bank()
    )
    assert created.status_code == 201, created.text
    grant_id = created.json()["grant_id"]

    sign_in(page, live)
    expect(request_card(page, grant_id)).to_have_count(0)
    page.get_by_role("link", name="代表谁办理").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("代表谁办理")
    page.get_by_label(re.compile(company["name"])).check()
    shot(page, "acting")
    page.get_by_role("button", name="确认").click()
    expect(page.locator("#acting-banner")).to_be_visible()
    card = request_card(page, grant_id)
    expect(card).to_contain_text("Demo Province Rural Commercial Bank")
    shot(page, "company-requests")

    decide(card, "批准所选类别")
    expect(page).to_have_url(f"{live.base}/portal/consents?notice=approved")
    assert live.grant(grant_id)["state"] == "active"
    body = {
        "grant_id": grant_id,
        "subject": subject,
        "purpose": "post_loan_management",
        "categories": ["basic"],
    }
    answer = live.api.post("/v1/inquiries/authorized", json=body, headers=live.bank())
    assert answer.status_code == 200, answer.text
    receipt = answer.json()["audit"]
    assert receipt["leaf_index"] >= 0 and receipt["leaf_hash"]

    live.app.state.audit_log.publish_now()
    page.get_by_role("link", name="谁查询了我的信息").click()
    rows = page.locator("table.log tbody tr")
    entry = f"日志序号 {receipt['leaf_index']}"
    inquiry = rows.filter(has_text=re.compile(rf"{entry}(?!\d)")).filter(has_text="已准许")
    expect(inquiry).to_have_count(1)
    expect(inquiry).to_contain_text("Demo Province Rural Commercial Bank")
    approval = rows.filter(has_text="授权变更").filter(has_text="批准")
    expect(approval).to_contain_text("经办人：张伟")
    shot(page, "company-access-log")

    page.get_by_role("link", name="代表谁办理").click()
    page.get_by_label("本人").check()
    page.get_by_role("button", name="确认").click()
    expect(page.locator("#acting-banner")).to_have_count(0)
