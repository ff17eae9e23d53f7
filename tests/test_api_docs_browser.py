"""The API's interactive documentation works offline in Chromium, under our strict CSP."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"


def test_swagger_ui_renders_from_our_own_files(browser: Browser, live_server) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    outside: list[str] = []
    violations: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{live_server.url}/api/v1/docs")
    # The bundle is 1.4 MB of JavaScript: give a loaded machine time to parse it.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Tawasul API", timeout=30_000)
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "api-docs.png"), full_page=False)
    assert outside == []
    assert violations == []
    context.close()
