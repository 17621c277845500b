"""What the Chromium tests of the gateway's sites (the citizen portal, the regulator console)
share: the demo gateway's settings and a persona's bearer token from it, the browser, a page of
a fresh profile that fails its test if anything broke the Content-Security-Policy, keyboard
navigation with a visible focus, and screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, sync_playwright

from gateway import demo
from gateway.settings import Settings
from gateway.storage import migrate
from tests.gateway.factories import ASSERTION_TYPE
from tests.live import CHROMIUM_FLAGS, require_chromium


def site_settings(directory: Path, base_url: str, **overrides: Any) -> Settings:
    """A migrated SQLite gateway at ``base_url`` for a browser test: budgets no test reaches,
    webhook deliveries out of the way."""
    settings = Settings(
        base_url=base_url,
        var_dir=directory / "var",
        database_url=f"sqlite:///{directory / 'gateway.db'}",
        rate_limit_default="100000/minute",
        rate_limit_sign_in="1000/minute",
        webhook_interval=3600,
        _env_file=None,
        **overrides,
    )
    migrate.upgrade(settings.resolved_database_url)
    return settings


def bearer(api: httpx.Client, persona: dict[str, Any]) -> dict[str, str]:
    """The Authorization header of a demo persona's access token (``private_key_jwt``)."""
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": demo.client_assertion(
            persona, str(api.base_url.copy_with(path="/oauth/token"))
        ),
    }
    response = api.post("/oauth/token", data=form)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    executable = require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@contextmanager
def strict_page(browser: Browser) -> Iterator[Page]:
    """A page of a fresh profile (Simplified Chinese, desktop size); on leaving, no page it
    showed may have logged a Content-Security-Policy violation."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1120, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    yield page
    context.close()
    assert not [error for error in errors if "Content Security Policy" in error]


def tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Press Tab until ``selector`` has the focus, which must be visible."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", f"no visible focus on {selector}"
            return
    raise AssertionError(f"Tab never reached {selector}")


def screenshot(page: Page, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
