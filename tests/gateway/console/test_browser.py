"""The regulator console in Debian's Chromium (headless): the demo officer signs in with the
keyboard alone (password and a TOTP code), sees the charts of the demo traffic, finds the
alert a burst of the demo establishment's inquiries raised, follows it to the log entries
behind it and their inclusion proofs, and signs out; a forged form is refused in the browser's
own session, and no page breaks the CSP. Screenshots go to ``var/test-artifacts/console/``.
SQLite only: the HTTP tests cover both backends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from gateway.app import create_app
from tests.browser import bearer, chromium, screenshot, site_settings, strict_page, tab_to
from tests.gateway.consents.factories import totp_codes
from tests.gateway.factories import demo_credentials
from tests.live import ARTIFACTS, free_port, serve

SHOTS = ARTIFACTS / "console"
BURST = 25  # above GATEWAY_OVERSIGHT_BURST_MINIMUM (20), a first day: the median is 0


@dataclass
class Live:
    app: FastAPI
    base: str
    api: httpx.Client
    credentials: dict[str, Any]

    def establishment(self) -> dict[str, str]:
        return bearer(self.api, self.credentials["establishment"])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The demo gateway on 127.0.0.1, with the demo traffic: public lookups of every demo
    subject, and a burst of the demo establishment's inquiries without a consent."""
    directory = tmp_path_factory.mktemp("console-browser")
    port = free_port()
    settings = site_settings(
        directory, f"http://127.0.0.1:{port}", rate_limit_public="100000/minute"
    )
    credentials = demo_credentials(settings)
    app = create_app(settings)
    with serve(app, port) as base, httpx.Client(base_url=base) as api:
        live = Live(app, base, api, credentials)
        demo_traffic(live)
        yield live
    app.state.engine.dispose()


def demo_traffic(live: Live) -> None:
    subjects = live.credentials["subjects"]
    for identifier in [*subjects["natural_persons"], *subjects["legal_persons"]]:
        assert live.api.get(f"/v1/public/credit-subjects/{identifier}").status_code == 200
    headers = live.establishment()
    for n in range(BURST):
        body = {
            "grant_id": f"cg_burst{n}",
            "subject": {"kind": "id_number", "value": live.credentials["citizen"]["id_number"]},
            "purpose": "post_loan_management",
            "categories": ["basic"],
        }
        response = live.api.post("/v1/inquiries/authorized", json=body, headers=headers)
        assert response.status_code == 403, response.text
    live.app.state.audit_log.publish_now()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with strict_page(browser) as page:
        yield page


def test_the_officer_follows_a_burst_alert_to_its_entries(page: Page, live: Live) -> None:
    officer = live.credentials["regulator_officer"]
    establishment = live.credentials["establishment"]["client_id"]

    page.goto(f"{live.base}/oversight")
    expect(page).to_have_url(f"{live.base}/oversight/sign-in")
    screenshot(page, SHOTS, "sign-in")
    tab_to(page, "#username")
    page.keyboard.type(officer["username"])
    tab_to(page, "#password")
    page.keyboard.type(officer["password"])
    tab_to(page, "#code")
    current = totp_codes(officer["totp_secret"])[1]
    page.keyboard.type(f"{(int(current) + 1) % 1_000_000:06d}")  # a wrong code
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("用户名、密码或验证码不正确。")

    tab_to(page, "#password")
    page.keyboard.type(officer["password"])
    tab_to(page, "#code")
    page.keyboard.type(current)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live.base}/oversight")

    expect(page.get_by_role("heading", level=1)).to_have_text("查询概况")
    by_channel = page.locator("#by-channel")
    expect(by_channel).to_be_visible()
    expect(by_channel.locator("rect")).to_have_count(2)  # today: two channels, one bar each
    expect(page.locator("figure").first.locator(".legend")).to_contain_text("授权查询")
    expect(page.locator("figure").first.locator(".legend")).to_contain_text("依法公开")
    expect(page.locator("#requesters")).to_contain_text(establishment)
    expect(page.locator("#refusals")).to_contain_text("100%")
    screenshot(page, SHOTS, "dashboard")

    tab_to(page, 'nav a[href="/oversight/alerts"]')
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("预警")
    burst = page.locator("li.alert-burst").filter(has_text=establishment)
    expect(burst).to_contain_text(f"当日查询 {BURST} 次")
    screenshot(page, SHOTS, "alerts")

    link = burst.get_by_role("link", name="查看相关日志条目")
    href = link.get_attribute("href") or ""
    assert re.fullmatch(rf"/oversight/entries\?requester={establishment}&day=[0-9-]+", href)
    tab_to(page, f'li.alert-burst a[href="{href}"]')
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("日志条目")
    rows = page.locator("table.entries tbody tr")
    expect(rows).to_have_count(BURST)
    for row in rows.all():
        expect(row).to_contain_text("授权查询")
        expect(row).to_contain_text("已拒绝")
        expect(row).to_contain_text("无有效授权")
    assert live.credentials["citizen"]["id_number"] not in page.content()
    screenshot(page, SHOTS, "entries")

    proof = rows.first.get_by_role("link")
    proof_url = proof.get_attribute("href") or ""
    assert proof_url.startswith("/v1/audit/proofs/inclusion?index=")
    assert page.request.get(f"{live.base}{proof_url}").json()["hashes"]

    page.get_by_role("link", name="日志状态").click()
    expect(page.locator("#checkpoint")).to_contain_text("gateway.demo-province.example")
    screenshot(page, SHOTS, "log")

    forged = page.request.post(
        f"{live.base}/oversight/sign-out", form={"csrf_token": "forged"}, max_redirects=0
    )
    assert forged.status == 403
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("日志状态")

    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(f"{live.base}/oversight/sign-in?notice=signed_out")
    expect(page.get_by_role("status")).to_have_text("您已安全退出。")
    page.goto(f"{live.base}/oversight/alerts")
    expect(page).to_have_url(f"{live.base}/oversight/sign-in")
