"""Every /console page checked by axe-core in headless Chromium: signed out with a refusal in the problem
area, and signed in with its controls enabled. No serious or critical violation in either state."""
from __future__ import annotations

import pytest

from infra.localrun.console_pages import PAGES
from tests.support.console import ConsolePage, console_page
from tests.support.platform import RunningPlatform

pytestmark = pytest.mark.slow

SIGNED_IN = {"chat": "#send:enabled", "media": "#file:enabled", "nexus": "#search:enabled",
             "audits": "#start:enabled", "render": "#render:enabled", "experiments": "#create-btn:enabled"}


def test_every_console_page_is_in_this_check() -> None:
    assert set(SIGNED_IN) == set(PAGES)


def _refused_sign_in(console: ConsolePage) -> None:
    console.page.fill("#email", "nobody@example.com")
    console.page.fill("#password", "not-the-password-1")
    console.page.click("#signin-btn")
    console.page.wait_for_selector("#problem:not([hidden])", timeout=15_000)


@pytest.mark.parametrize("name", sorted(SIGNED_IN))
def test_a_console_page_has_no_serious_accessibility_violation(platform: RunningPlatform, name: str) -> None:
    with console_page(platform, name, allow_errors=[r"status of 401 .* at .*/auth/login$"]) as console:
        _refused_sign_in(console)
        assert console.accessibility_violations() == [], f"{name}, signed out, a refusal shown"
        console.sign_up(f"a11y-{name}")
        console.page.wait_for_selector(SIGNED_IN[name], timeout=15_000)
        assert console.accessibility_violations() == [], f"{name}, signed in"


def test_the_outbox_has_no_serious_accessibility_violation(platform: RunningPlatform) -> None:
    with console_page(platform, "outbox") as console:
        console.page.wait_for_selector("#status:not(:text('Loading...'))", timeout=15_000)
        assert console.accessibility_violations() == []
