"""The /console/audits page in headless Chromium: sign up, paste HTML, watch the audit run, read the
findings and the screenshots per breakpoint with the offending elements outlined."""
from __future__ import annotations

import pytest

from tests.support.console import console_page
from tests.support.platform import RunningPlatform

pytestmark = pytest.mark.slow

PAGE = ('<!doctype html><html lang="en"><head><title>Sale</title></head><body><main><h1>Sale</h1>'
        '<p style="color:#ccc">Faint text</p><div id="banner" style="width:600px;height:30px">Wide</div>'
        '</main></body></html>')


@pytest.mark.usefixtures("delivering")
def test_paste_html_watch_the_audit_and_see_highlighted_screenshots(platform: RunningPlatform) -> None:
    from playwright.sync_api import expect

    with console_page(platform, "audits") as console:
        page = console.page
        console.sign_up("auditor")
        expect(page.locator("#status")).to_have_text("Signed in: enter a URL or paste HTML.", timeout=15_000)
        page.fill("#html", PAGE)
        page.click("#start")
        expect(page.locator("#status")).to_have_text("Audit done.", timeout=90_000)
        expect(page.locator("#stage")).to_have_text("done")
        assert page.locator("#progress").evaluate("p => p.value") == 1
        stages = page.locator("#stages li").all_inner_texts()  # seen live on the meta channel
        assert stages[0] == "loading" and "layout 320px" in stages and "layout 1920px" in stages
        findings = page.locator(".finding").all_inner_texts()
        assert any(text.startswith("color-contrast") and "WCAG 1.4.3" in text for text in findings)
        assert any(text.startswith("horizontal_overflow: #banner") for text in findings)
        assert any(text.startswith("reflow:") for text in findings)
        expect(page.locator("#shots figure")).to_have_count(8)
        first = page.locator("#shots figure").first
        expect(first.locator("figcaption")).to_have_text("320 px")
        assert first.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
        assert first.locator(".highlight").count() >= 1  # the banner, outlined at 320 px
        assert page.locator("#shots figure").nth(3).locator(".highlight").count() == 0  # 768 px: it fits
        page.screenshot(path="/tmp/console-audits.png", full_page=True)
