"""Objections in the citizen portal (Art. 64): the credit report page files one per item with
the session's CSRF token, labels the item, and shows every objection with its answer - over
HTTP on both backends, and in Debian's Chromium (SQLite; screenshots under
``var/test-artifacts/portal/``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect, sync_playwright

from gateway.app import create_app
from gateway.settings import Settings
from gateway.storage import migrate
from tests.gateway.archive.factories import penalty, person
from tests.gateway.factories import assertion_form, demo_credentials
from tests.gateway.portal.factories import assert_accessible_page, signed_in, submit
from tests.gateway.rights.factories import Rights
from tests.live import ARTIFACTS, CHROMIUM_FLAGS, require_chromium, serve

REPORT = "/portal/credit-report"


def test_an_objection_filed_in_the_portal_is_labelled_and_answered(rights: Rights) -> None:
    record_id = rights.record()
    client = signed_in(rights.flow)
    page = client.get(REPORT)
    assert_accessible_page(page.text)
    action = f"{REPORT}/{record_id}/objection"
    assert f'action="{action}"' in page.text

    forged = client.post(action, data={"reason": "信息有误"}, follow_redirects=False)
    assert forged.status_code == 403  # no CSRF token: nothing filed
    filed = submit(client, action, {"reason": "该处罚已被撤销"}, page=REPORT)
    assert (filed.status_code, filed.headers["location"]) == (
        303,
        f"{REPORT}?notice=objection_filed",
    )
    shown = client.get(f"{REPORT}?notice=objection_filed").text
    assert "已提交异议" in shown and "异议处理中" in shown and "处理中" in shown
    assert f'action="{action}"' not in shown  # one open objection per item
    assert_accessible_page(shown)

    (objection,) = [
        entry
        for entry in rights.get("/v1/me/objections", "citizen")["objections"]
        if entry["record_id"] == record_id
    ]
    rights.answer(objection["objection_id"], outcome="upheld", reason="经核查信息准确")
    answered = client.get(REPORT).text
    assert "维持原信息：经核查信息准确" in answered
    assert f'action="{action}"' in answered  # the label is lifted with the answer
    assert "申请行政复议或者提起行政诉讼" in answered  # the remedy, Art. 71


def test_art_37_the_portal_shows_my_statements_with_the_record(rights: Rights) -> None:
    record_id = rights.record()
    pledge = {"record_id": record_id, "kind": "pledge", "text": "本人承诺按期整改"}
    stated = rights.client.post(
        "/v1/me/statements", json=pledge, headers=rights.world.headers("citizen")
    )
    assert stated.status_code == 201, stated.text
    page = signed_in(rights.flow).get(REPORT).text
    assert "本人提供的信用承诺" in page and "本人承诺按期整改" in page
    assert_accessible_page(page)


def test_art_71_a_refusal_in_the_portal_tells_the_remedy(rights: Rights) -> None:
    client = signed_in(rights.flow)
    page = client.get(REPORT)  # a form token for the session
    assert page.status_code == 200
    refused = submit(client, f"{REPORT}/rec_{'0' * 32}/objection", {"reason": "x"}, page=REPORT)
    assert refused.status_code == 404
    assert "申请行政复议或者提起行政诉讼" in refused.text


@dataclass
class Live:
    base: str
    credentials: dict[str, Any]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    directory = tmp_path_factory.mktemp("rights-browser")
    settings = Settings(
        var_dir=directory / "var",
        database_url=f"sqlite:///{directory / 'gateway.db'}",
        rate_limit_sign_in="1000/minute",
        scheduler_enabled=False,
        _env_file=None,
    )
    migrate.upgrade(settings.resolved_database_url)
    credentials = demo_credentials(settings)
    app: FastAPI = create_app(settings)
    with serve(app) as base:
        yield Live(base, credentials)
    app.state.engine.dispose()


def _api(live: Live, persona: str) -> httpx.Client:
    """An API client of the live gateway with the persona's bearer token."""
    client = httpx.Client(base_url=live.base)
    form = {"grant_type": "client_credentials", **assertion_form(live.credentials[persona])}
    token = client.post("/oauth/token", data=form).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_the_citizen_objects_and_reads_the_answer_in_chromium(live: Live) -> None:
    chromium = require_chromium()
    court = _api(live, "provider")
    citizen = live.credentials["citizen"]
    submitted = court.post("/v1/records", json={"records": [penalty(person(citizen["id_number"]))]})
    record_id = submitted.json()["results"][0]["record_id"]
    shots = ARTIFACTS / "portal"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page: Page = browser.new_page(locale="zh-CN", viewport={"width": 1120, "height": 900})
        page.goto(f"{live.base}/portal/sign-in")
        page.get_by_label("用户名").fill(citizen["username"])
        page.get_by_label("密码").fill(citizen["password"])
        page.get_by_role("button", name="登录").click()
        page.goto(f"{live.base}{REPORT}")
        card = page.locator("article.card").filter(has=page.locator(f'[id="item-{record_id}"]'))
        card.get_by_text("对此信息提出异议").click()
        card.get_by_label("异议理由").fill("该处罚决定已被复议撤销")
        card.get_by_role("button", name="提交异议").click()
        expect(page.get_by_role("status")).to_contain_text("已提交异议")
        expect(card.locator(".tag")).to_contain_text("异议处理中")
        page.screenshot(path=str(shots / "objection-filed.png"), full_page=True)

        objection_id = court.get("/v1/objections").json()["objections"][0]["objection_id"]
        answer = {"outcome": "upheld", "reason": "经核查，处罚决定仍然有效"}
        assert court.post(f"/v1/objections/{objection_id}/answer", json=answer).status_code == 200
        page.reload()
        expect(page.locator(".answer")).to_contain_text("维持原信息：经核查，处罚决定仍然有效")
        page.screenshot(path=str(shots / "objection-answered.png"), full_page=True)
        browser.close()
    court.close()
