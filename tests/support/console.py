"""A /console page in headless Chromium for the browser tests: open it, sign in (a fresh sign-up, or as a
member of a given role), wait for its realtime stream, check it with axe-core, and fail the test on any
JavaScript error the page raised or logged (console.js and every page script run under the test)."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from studio.audits.browser import AXE
from tests.support.api import PASSWORD, User, add_member, new_tenant, new_user
from tests.support.browser import CHROMIUM, FLAGS
from tests.support.platform import RunningPlatform

if TYPE_CHECKING:
    from playwright.sync_api import Page

SERIOUS = ("serious", "critical")


@dataclass
class ConsolePage:
    page: Page
    base_url: str
    errors: list[str] = field(default_factory=list)

    def sign_up(self, prefix: str = "console") -> str:
        """A new account, made with the page's own Sign up button; its address."""
        email = f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"
        self.page.fill("#email", email)
        self.page.fill("#password", PASSWORD)
        self.page.click("#signup-btn")
        return email

    def sign_in_as(self, client: httpx.Client, role: str = "owner") -> User:
        """A user holding ``role`` in a new tenant (their only one, so the page picks it), signed in here."""
        owner = new_user(client, "console-owner")
        tenant = new_tenant(client, owner)
        user = owner
        if role != "owner":
            user = new_user(client, f"console-{role}")
            add_member(client, owner, tenant, user, role)
        self.page.fill("#email", user.email)
        self.page.fill("#password", PASSWORD)
        self.page.click("#signin-btn")
        return user

    def wait_for_stream(self, name: str = "meta", timeout: float = 15_000) -> None:
        """Until the page's realtime stream ``name`` (console.js marks it on <html>) is open."""
        self.page.wait_for_selector(f"html[data-realtime-{name}=open]", state="attached", timeout=timeout)

    def accessibility_violations(self, impacts: Sequence[str] = SERIOUS) -> list[dict[str, Any]]:
        """axe-core's violations of the page as it stands, of the given impacts (id, impact, help, targets)."""
        if not AXE.exists():
            raise AssertionError(f"axe-core is missing at {AXE}: `make test` installs it (infra/install-axe.sh)")
        self.page.evaluate(AXE.read_text())  # evaluated, not a <script>: the page's CSP forbids inline scripts
        found = self.page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                 "targets": [" ".join(map(str, n["target"])) for n in v["nodes"]]}
                for v in found["violations"] if v["impact"] in impacts]


@contextmanager
def console_page(platform: RunningPlatform, name: str, *, allow_errors: Sequence[str] = ()) -> Iterator[ConsolePage]:
    """``/console/<name>`` open in a fresh Chromium; on a clean exit, any page error or console error not
    matched by a pattern of ``allow_errors`` fails the test (an expected refusal logs its status line)."""
    if not Path(CHROMIUM).exists():
        raise AssertionError("Debian's chromium is missing: `make test` installs it (infra/install-browser.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)  # a fresh profile
        try:
            page = browser.new_page()
            console = ConsolePage(page, platform.base_url)
            page.on("pageerror", lambda exc: console.errors.append(f"page error: {exc}"))
            page.on("console", lambda msg: console.errors.append(f"console.error: {msg.text} at {msg.location['url']}")
                    if msg.type == "error" else None)
            page.goto(f"{platform.base_url}/console/{name}")
            yield console
            page.wait_for_timeout(100)  # an error raised by the last action's handlers lands first
        finally:
            browser.close()
    unexpected = [e for e in console.errors if not any(re.search(p, e) for p in allow_errors)]
    assert not unexpected, f"/console/{name} raised JavaScript errors: {unexpected}"
