"""The /console/chat page in headless Chromium (Debian's, driven by Playwright): sign up,
send a message, and watch the agent's reply stream in."""
from __future__ import annotations

import pytest

from studio.adapters.echo_llm import LABEL
from tests.support.console import console_page
from tests.support.platform import RunningPlatform

pytestmark = pytest.mark.slow


def test_sign_in_send_and_see_the_reply_stream(platform: RunningPlatform, delivering: None) -> None:
    from playwright.sync_api import expect

    with console_page(platform, "chat") as console:
        page = console.page
        console.sign_up("browser")
        expect(page.locator("#status")).to_have_text("Connected: replies stream live.", timeout=15_000)
        console.wait_for_stream("chat")
        page.fill("#text", "Describe a sunrise over the sea in a few words please")
        page.click("#send")
        expect(page.locator(".msg.user")).to_have_text("Describe a sunrise over the sea in a few words please")
        reply = page.locator(".msg.agent").first
        expect(reply).to_have_class("msg agent streaming", timeout=15_000)  # seen while it streams
        expect(reply).to_have_class("msg agent complete", timeout=15_000)
        expect(reply).to_contain_text(LABEL)  # the platform fixture's echo responder
        page.screenshot(path="/tmp/console-chat.png")
