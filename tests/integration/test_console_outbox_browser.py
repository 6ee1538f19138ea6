"""/console/outbox in headless Chromium (Debian's, driven by Playwright): the local runtime's
mail outbox lists the verification mail of a fresh sign-up, and its button verifies the address.
The outbox answers this machine only."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from infra.localrun.outbox_page import outbox_routes
from studio.adapters.outbox_mailer import OutboxMailer
from studio.ports.mailer import Mail
from tests.support.api import new_user
from tests.support.console import console_page
from tests.support.platform import RunningPlatform


@pytest.mark.slow
def test_the_outbox_shows_the_verification_mail_and_verifies(platform: RunningPlatform, client: httpx.Client) -> None:
    from playwright.sync_api import expect

    user = new_user(client, "outbox")
    with console_page(platform, "outbox") as console:
        page = console.page
        mail = page.locator(f'article.verify_email[data-to="{user.email}"]')
        expect(mail).to_have_count(1, timeout=15_000)
        expect(mail.locator("h2")).to_have_text("Verify your email address")
        mail.locator("button.verify").click()
        expect(mail.locator(".result")).to_have_text(f"Verified: {user.email}", timeout=15_000)
        page.screenshot(path="/tmp/console-outbox.png")
    assert client.get("/auth/me", headers=user.auth).json()["email_verified"] is True


def test_the_outbox_answers_this_machine_only(tmp_path: Path) -> None:
    class Deps:  # the one attribute the routes read, holding the real local mailer
        mailer = OutboxMailer(tmp_path / "mail")

    Deps.mailer.send(Mail("ada@example.com", "Reset your password", "code pr_x.y", "password_reset", "pr_x.y"))
    with TestClient(Starlette(routes=outbox_routes(Deps())), client=("192.0.2.44", 50000)) as remote:
        for path in ("/console/outbox", "/console/outbox.json"):
            r = remote.get(path)
            assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN"
            assert "pr_x.y" not in r.text
    with TestClient(Starlette(routes=outbox_routes(Deps())), client=("127.0.0.1", 50000)) as local:
        assert [m["token"] for m in local.get("/console/outbox.json").json()["mails"]] == ["pr_x.y"]


def test_outbox_files_are_private(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path / "mail")
    mailer.send(Mail("ada@example.com", "s", "t", "verify_email", "ev_x.y"))
    assert (tmp_path / "mail").stat().st_mode & 0o777 == 0o700
    assert [p.stat().st_mode & 0o777 for p in (tmp_path / "mail").iterdir()] == [0o600]
