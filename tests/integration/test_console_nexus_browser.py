"""The /console/nexus page in headless Chromium (Debian's, driven by Playwright): sign up, paste a
document, watch its ingest progress arrive on the meta channel, search in the three modes side by
side, and see the cards as a scatter plot."""
from __future__ import annotations

import httpx
import pytest

from tests.support.api import PASSWORD
from tests.support.console import console_page
from tests.support.platform import RunningPlatform

DOC = """# Studio handbook

## Palette

Our palette is ultramarine blue with a coral accent.

## Voice

We write short sentences in a warm and direct voice.

## Deadlines

Client work ships on Thursdays; nothing goes out on a Friday.
"""

pytestmark = pytest.mark.slow


def test_paste_ingest_watch_progress_search_three_modes_and_see_the_scene(platform: RunningPlatform,
                                                                          delivering: None) -> None:
    from playwright.sync_api import expect

    with console_page(platform, "nexus") as console:
        page = console.page
        email = console.sign_up("nexus")
        expect(page.locator("#status")).to_have_text("Connected: ingest progress is live.", timeout=15_000)
        page.fill("#doc-title", "Handbook")
        page.fill("#doc-text", DOC)
        page.click("#ingest")
        # the worker's progress, published on the tenant's meta channel, reaches the page
        expect(page.locator("#progress-text")).to_have_text("done: 4/4 atoms embedded (100%)", timeout=30_000)
        expect(page.locator("#progress")).to_have_attribute("value", "100")
        expect(page.locator("#runs .run").first).to_contain_text("ingest done · 4 atoms", timeout=10_000)
        page.fill("#query", "ultramarine")
        page.click("#search")
        for mode in ("keyword", "vector", "hybrid"):
            expect(page.locator(f"#results-{mode} .result").first).to_contain_text("Palette", timeout=15_000)
        page.fill("#query", "when do we deliver projects to clients")
        page.click("#search")
        expect(page.locator("#results-vector .result").first).to_contain_text("Deadlines", timeout=15_000)
        expect(page.locator("#scene circle.point")).to_have_count(4, timeout=10_000)
        expect(page.locator("#scene-info")).to_contain_text("4 cards")
        # a file upload: an HTML page becomes a document too (its title from the file name)
        page.fill("#doc-title", "")
        page.set_input_files("#doc-file", files=[{"name": "menu.html", "mimeType": "text/html",
                                                  "buffer": b"<h1>Menu</h1><p>Saffron risotto on Mondays.</p>"}])
        page.click("#ingest")
        expect(page.locator("#runs .run").first).to_contain_text("ingest done · 1 atoms", timeout=30_000)
        page.fill("#query", "saffron")
        page.click("#search")
        expect(page.locator("#results-keyword .result").first).to_contain_text("menu.html — Menu", timeout=15_000)
        expect(page.locator("#scene circle.point")).to_have_count(5, timeout=10_000)
        # a document uploaded to media (here by the same user over the API) is picked from the list
        asset_id = _upload_document(platform, email, "tides.md", b"# Tides\n\nThe kelp shoot is at low tide.")
        page.fill("#doc-title", "")
        page.set_input_files("#doc-file", files=[])
        page.click("#assets-btn")
        expect(page.locator(f"#doc-asset option[value='{asset_id}']")).to_have_text("tides.md (text/markdown)",
                                                                                   timeout=10_000)
        page.select_option("#doc-asset", asset_id)
        page.click("#ingest")
        expect(page.locator("#runs .run").first).to_contain_text("ingest done · 1 atoms", timeout=30_000)
        expect(page.locator("#doc-asset")).to_have_value("")  # picked once: a paste next is not this asset again
        page.fill("#query", "kelp")
        page.click("#search")
        expect(page.locator("#results-keyword .result").first).to_contain_text("tides.md", timeout=15_000)
        page.screenshot(path="/tmp/console-nexus.png", full_page=True)


def _upload_document(platform: RunningPlatform, email: str, name: str, data: bytes) -> str:
    """The console user's document, uploaded through /media-v2's multipart form into their tenant."""
    with httpx.Client(base_url=platform.base_url, timeout=30) as c:
        token = c.post("/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        tenant = c.get("/auth/me", headers=auth).json()["memberships"][0]["tenant_id"]
        r = c.post("/media-v2/assets", files={"file": (name, data, "text/markdown")},
                   headers={**auth, "X-Tenant-Id": tenant, "X-Env": "dev"})
        assert r.status_code == 201 and r.json()["kind"] == "document", r.text
        return str(r.json()["id"])
