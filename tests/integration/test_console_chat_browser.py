"""The /console/chat page in headless Chromium (Debian's, driven by Playwright): sign up,
send a message, and watch the agent's reply stream in."""
from __future__ import annotations

import shutil
import uuid

import pytest

from studio.adapters.echo_llm import LABEL
from tests.support.api import PASSWORD
from tests.support.browser import CHROMIUM, FLAGS
from tests.support.platform import RunningPlatform

pytestmark = pytest.mark.slow


def test_sign_in_send_and_see_the_reply_stream(platform: RunningPlatform, delivering: None, tmp_path) -> None:  # noqa: ANN001
    if not shutil.which("chromium") and not shutil.os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is missing: `make test` installs it (infra/install-browser.sh)")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=FLAGS)  # Playwright gives each launch a fresh profile
        try:
            page = browser.new_page()
            page.goto(platform.base_url + "/console/chat")
            page.fill("#email", f"browser-{uuid.uuid4().hex[:8]}@example.com")
            page.fill("#password", PASSWORD)
            page.click("#signup-btn")
            expect(page.locator("#status")).to_have_text("Connected: replies stream live.", timeout=15_000)
            page.fill("#text", "Describe a sunrise over the sea in a few words please")
            page.click("#send")
            expect(page.locator(".msg.user")).to_have_text("Describe a sunrise over the sea in a few words please")
            reply = page.locator(".msg.agent").first
            expect(reply).to_have_class("msg agent streaming", timeout=15_000)  # seen while it streams
            expect(reply).to_have_class("msg agent complete", timeout=15_000)
            expect(reply).to_contain_text(LABEL)  # the platform fixture's echo responder
            page.screenshot(path="/tmp/console-chat.png")
        finally:
            browser.close()
