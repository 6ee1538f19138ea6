"""The /console/experiments page in headless Chromium (Debian's, driven by Playwright): sign up,
create and start an experiment, send simulated traffic, and watch the results table and the
funnel chart fill in as the analytics writer stores the rows."""
from __future__ import annotations

import pytest

from tests.support.console import console_page
from tests.support.platform import RunningPlatform

pytestmark = pytest.mark.slow


def test_create_send_traffic_and_watch_results(platform: RunningPlatform, delivering: None) -> None:
    from playwright.sync_api import expect

    with console_page(platform, "experiments") as console:
        page = console.page
        console.sign_up("exp-browser")
        expect(page.locator("#status")).to_have_text("Signed in: create an experiment.", timeout=15_000)
        page.select_option("#arms", "3")
        page.click("#create-btn")
        expect(page.locator("#experiment")).to_contain_text("is running", timeout=15_000)
        expect(page.locator("#results tbody tr")).to_have_count(3, timeout=15_000)
        expect(page.locator('#results tr[data-variation="control"] .users')).to_have_text("0")
        page.fill("#subjects", "300")
        page.click("#simulate-btn")
        expect(page.locator("#sent")).to_contain_text("300 assigned", timeout=30_000)
        # The table fills in as the rows reach the analytics store: 300 users over three variations.
        expect(page.locator("#summary")).to_contain_text("300 users", timeout=30_000)
        users = [int(t) for t in page.locator("#results tbody .users").all_inner_texts()]
        assert sum(users) == 300 and all(u > 50 for u in users)
        assert page.locator("#results tbody .p-value").all_inner_texts()[1] != "–"
        bars = page.locator("#funnel .bar")
        expect(bars).to_have_count(6)
        counts = [int(b.get_attribute("data-count") or "0") for b in bars.all()]
        assert counts[0::2] == users and all(c <= u for c, u in zip(counts[1::2], users, strict=True))
        page.screenshot(path="/tmp/console-experiments.png", full_page=True)
