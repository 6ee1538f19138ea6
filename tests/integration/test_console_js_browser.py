"""console.js, the script every /console page shares, in headless Chromium against the real runtime: the
problem area shows a refusal's title, detail and code; api() sends the Idempotency-Key; a member of a
given role signs in; a dropped stream reconnects with a fresh ticket, a thread resumes from its cursor and
the meta channel has the page re-read what it missed; a revoked stream stops and says why."""
from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from studio.kernel.meta import publish_meta
from tests.support.api import PASSWORD, new_user
from tests.support.console import console_page
from tests.support.platform import RunningPlatform

pytestmark = pytest.mark.slow
REFUSED = r"status of 40[13] .* at "


def test_a_refusal_shows_its_title_detail_and_code_until_dismissed(platform: RunningPlatform,
                                                                    client: httpx.Client) -> None:
    from playwright.sync_api import expect

    user = new_user(client, "refused")
    expected = client.post("/auth/login", json={"email": user.email, "password": "wrong-" + PASSWORD}).json()
    with console_page(platform, "chat", allow_errors=[REFUSED]) as console:
        page = console.page
        page.fill("#email", user.email)
        page.fill("#password", "wrong-" + PASSWORD)
        page.click("#signin-btn")
        problem = page.locator("#problem")
        expect(problem).to_be_visible(timeout=15_000)
        assert problem.get_attribute("role") == "alert"
        expect(problem.locator(".problem-title")).to_have_text(expected["title"])
        shown = expected["detail"] if expected["detail"] != expected["title"] else ""  # said once, not twice
        expect(problem.locator(".problem-detail")).to_have_text(shown or "")
        expect(problem.locator(".problem-code")).to_have_text(expected["code"])
        expect(page.locator("#status")).to_have_text("Sign-in failed: " + (expected["detail"] or expected["code"]))
        page.screenshot(path="/tmp/console-problem.png")
        problem.locator("button.problem-dismiss").click()
        expect(problem).to_be_hidden()


def test_a_viewer_signs_in_and_is_refused_what_the_role_does_not_allow(platform: RunningPlatform,
                                                                      client: httpx.Client) -> None:
    from playwright.sync_api import expect

    with console_page(platform, "chat", allow_errors=[REFUSED]) as console:
        viewer = console.sign_in_as(client, "viewer")
        tenant = client.get("/auth/me", headers=viewer.auth).json()["memberships"][0]["tenant_id"]
        expected = client.post("/chat/threads", json={"title": "Console chat"}, headers=viewer.in_tenant(tenant))
        assert expected.status_code == 403  # what the page's first write meets: a viewer reads only
        expect(console.page.locator("#problem .problem-code")).to_have_text(expected.json()["code"], timeout=15_000)
        assert console.page.evaluate("() => studioConsole.session.tenant") == tenant
        expect(console.page.locator("#send")).to_be_disabled()


def test_api_sends_the_idempotency_key_and_request_returns_the_etag(platform: RunningPlatform,
                                                                   client: httpx.Client) -> None:
    with console_page(platform, "chat") as console:
        console.sign_in_as(client, "member")
        console.wait_for_stream("chat")
        ids = console.page.evaluate("""async () => {
            const post = (key) => studioConsole.api("POST", "/chat/threads", { title: "twice" }, { idempotencyKey: key });
            const a = await post("k-console-1"), b = await post("k-console-1"), c = await post("k-console-2");
            const read = await studioConsole.request("GET", "/chat/threads/" + a.id);
            return [a.id, b.id, c.id, read.etag, read.data.rev];
        }""")
        assert ids[0] == ids[1] != ids[2]  # the same key is the same thread; another key, another one
        assert ids[3] and str(ids[4]) in ids[3]


def _requests(page, path: str) -> list[str]:  # noqa: ANN001 - playwright's Page
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url) if urlsplit(r.url).path.startswith(path) else None)
    return urls


def _until(page, done: Callable[[], bool], seconds: float = 15) -> None:  # noqa: ANN001 - playwright's Page
    """Let the page run (its events reach Python while it waits) until ``done()``."""
    for _ in range(int(seconds * 10)):
        if done():
            return
        page.wait_for_timeout(100)
    raise AssertionError("the page did not get there in time")


def _first_connection_ends(page, pattern: str, body: str) -> None:  # noqa: ANN001 - playwright's Page
    """The first stream matching ``pattern`` opens, sends ``body`` and ends (a drop); the next ones are real."""
    served: list[str] = []

    def route(r) -> None:  # noqa: ANN001 - playwright's Route
        if served:
            r.continue_()
            return
        served.append(r.request.url)
        r.fulfill(status=200, content_type="text/event-stream", body=body)

    page.route(pattern, route)


def test_a_dropped_thread_stream_resumes_from_its_cursor(platform: RunningPlatform, delivering: None) -> None:
    from playwright.sync_api import expect

    with console_page(platform, "chat") as console:
        page = console.page
        urls = _requests(page, "/sse/chat/")
        frame = {"type": "message.created", "seq": 1, "epoch": 1, "cursor": "0~1.0",
                 "data": {"role": "agent", "status": "streaming", "text": ""}}
        _first_connection_ends(page, "**/sse/chat/**", f"id: 0~1.0\nevent: message.created\ndata: {json.dumps(frame)}\n\n")
        console.sign_up("resume")
        _until(page, lambda: len(urls) >= 2)
        console.wait_for_stream("chat")
        expect(page.locator("#status")).to_have_text("Connected: replies stream live.", timeout=15_000)
        first, second = (parse_qs(urlsplit(u).query) for u in urls[:2])
        assert first["since"] == ["0"] and "cursor" not in first
        assert second["cursor"] == ["0~1.0"] and "since" not in second  # resumed where the drop left it
        assert first["ticket"] != second["ticket"]  # a ticket works once: a new one per connection
        page.fill("#text", "still here?")
        page.click("#send")
        expect(page.locator(".msg.user")).to_have_text("still here?", timeout=15_000)


def test_a_dropped_meta_channel_reconnects_and_the_page_re_reads(platform: RunningPlatform,
                                                                 delivering: None) -> None:
    from playwright.sync_api import expect

    with console_page(platform, "nexus") as console:
        page = console.page
        urls = _requests(page, "/sse/meta")
        runs = _requests(page, "/nexus/runs")
        _first_connection_ends(page, "**/sse/meta*", ": opened, then gone\n\n")
        states: list[str] = []
        page.expose_function("noteState", lambda s: states.append(s))
        page.evaluate("""() => new MutationObserver(() => window.noteState(document.documentElement.dataset.realtimeMeta))
            .observe(document.documentElement, {attributes: true, attributeFilter: ['data-realtime-meta']})""")
        console.sign_up("meta-drop")
        expect(page.locator("#status")).to_have_text("Connected: ingest progress is live.", timeout=15_000)
        _until(page, lambda: states.count("open") >= 2)
        console.wait_for_stream("meta")
        assert len(urls) == 2 and urls[0] != urls[1]  # reconnected, with a fresh ticket
        assert states[:4] == ["connecting", "open", "reconnecting", "open"], states
        _until(page, lambda: len(runs) >= 2)  # once on sign-in, once more on resume: the channel replays nothing
        tenant = page.evaluate("() => studioConsole.session.tenant")
        publish_meta(platform.deps.bus, tenant, "dev", "nexus.ingest_progress",
                     {"status": "embedding", "done": 1, "total": 3, "percent": 33})
        expect(page.locator("#progress-text")).to_have_text("embedding: 1/3 atoms embedded (33%)", timeout=15_000)


def test_a_revoked_stream_stops_and_says_why(platform: RunningPlatform, client: httpx.Client) -> None:
    from playwright.sync_api import expect

    with console_page(platform, "render", allow_errors=[REFUSED]) as console:
        page = console.page
        console.sign_up("revoked")
        console.wait_for_stream("meta")
        token = page.evaluate("() => studioConsole.session.token")
        assert client.post("/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code == 204
        page.wait_for_selector("html[data-realtime-meta=revoked]", state="attached", timeout=15_000)
        expect(page.locator("#problem .problem-code")).to_have_text("TOKEN_INVALID")
        tickets = _requests(page, "/realtime/tickets")
        page.wait_for_timeout(2_500)  # longer than the first retry: none is made
        assert tickets == []
