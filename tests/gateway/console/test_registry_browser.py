"""The console's registry in Debian's Chromium (headless, the system browser): the demo
regulator officer signs in, registers a legal basis for the demo agency with the form, and the
demo agency's inquiry based on authority on that basis is answered at once, within its
categories; the officer withdraws it and the next inquiry is refused (Art. 40 para. 1). No page
breaks the console's CSP. Screenshots go to ``var/test-artifacts/console/``. SQLite only: the
HTTP tests cover both backends."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from gateway import demo
from gateway.app import create_app
from tests.browser import bearer, chromium, screenshot, site_settings, strict_page
from tests.gateway.consents.factories import totp_codes
from tests.gateway.factories import demo_credentials
from tests.live import ARTIFACTS, free_port, serve

SHOTS = ARTIFACTS / "console"
CODE = "browser-fraud-inspection"


@dataclass
class Live:
    base: str
    api: httpx.Client
    credentials: dict[str, Any]

    def authority_inquiry(self, legal_basis: str) -> httpx.Response:
        """The demo agency's inquiry based on authority about the demo citizen."""
        body = {
            "subject": {"kind": "id_number", "value": self.credentials["citizen"]["id_number"]},
            "legal_basis": legal_basis,
            "case_reference": "(2026) demo case 7",
        }
        headers = bearer(self.api, self.credentials["agency"])
        return self.api.post("/v1/inquiries/authority", json=body, headers=headers)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    port = free_port()
    directory = tmp_path_factory.mktemp("console-registry-browser")
    settings = site_settings(directory, f"http://127.0.0.1:{port}")
    credentials = demo_credentials(settings)
    demo.seed_demo_archive(settings)
    app = create_app(settings)
    with serve(app, port) as base, httpx.Client(base_url=base) as api:
        yield Live(base, api, credentials)
    app.state.engine.dispose()


@pytest.fixture
def page(live: Live) -> Iterator[Page]:
    with chromium() as browser, strict_page(browser) as opened:
        yield opened


def sign_in(page: Page, live: Live) -> None:
    officer = live.credentials["regulator_officer"]
    page.goto(f"{live.base}/oversight/sign-in")
    page.get_by_label("用户名").fill(officer["username"])
    page.get_by_label("密码").fill(officer["password"])
    page.get_by_label("验证码").fill(totp_codes(officer["totp_secret"])[1])
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live.base}/oversight")


def test_an_officer_registers_a_basis_the_agency_uses_at_once_then_withdraws_it(
    page: Page, live: Live
) -> None:
    assert live.authority_inquiry(CODE).json()["reason"] == "legal_basis_foreign"
    sign_in(page, live)
    page.get_by_role("link", name="法定依据").click()
    expect(page.locator("#basis-market-supervision-inspection")).to_contain_text("有效")
    screenshot(page, SHOTS, "legal-bases")

    form = page.locator("form[action='/oversight/legal-bases']")
    form.get_by_label("代码").fill(CODE)
    form.get_by_label("名称").fill("Inspection of a suspected fraud")
    form.get_by_label("法律条款").fill("Demo Province Market Supervision Regulations, Art. 18")
    form.get_by_label("适用范围").fill("An open fraud case against a market entity")
    form.get_by_label("basic").check()
    form.get_by_role("button", name="登记法定依据").click()
    expect(page.get_by_role("status")).to_have_text("法定依据已登记。")
    expect(page.locator(f"#basis-{CODE}")).to_contain_text("有效")
    screenshot(page, SHOTS, "legal-basis-registered")

    answered = live.authority_inquiry(CODE)
    assert answered.status_code == 200, answered.text
    categories = {item["scope_category"] for item in answered.json()["items"]}
    assert categories == {"basic"}
    wider = live.authority_inquiry("market-supervision-inspection").json()
    assert "untrustworthy" in {item["scope_category"] for item in wider["items"]}

    page.locator(f"#basis-{CODE}").get_by_role("button", name="撤回").click()
    expect(page.get_by_role("status")).to_have_text("法定依据已撤回。")
    expect(page.locator(f"#basis-{CODE}")).to_contain_text("已撤回")
    screenshot(page, SHOTS, "legal-basis-withdrawn")
    refused = live.authority_inquiry(CODE)
    assert refused.status_code == 403
    assert (refused.json()["reason"], refused.json()["article"]) == (
        "legal_basis_not_in_force",
        "Art. 40 para. 1",
    )
