"""`/docs` renders the API in a real browser, from packaged assets, under the strict CSP."""

from __future__ import annotations

from fastapi import FastAPI
from playwright.sync_api import sync_playwright

from tests.live import ARTIFACTS, CHROMIUM_FLAGS, require_chromium, serve


def test_docs_page_lists_the_operations_in_chromium(app: FastAPI) -> None:
    chromium = require_chromium()
    errors: list[str] = []
    with serve(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.on(
            "console",
            lambda message: errors.append(message.text) if message.type == "error" else None,
        )
        page.goto(f"{base}/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=15_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "docs.png"), full_page=True)
        browser.close()
    assert "/oauth/token" in paths and "/readyz" in paths
    assert not [e for e in errors if "Content Security Policy" in e]
