"""How the runtime serves the console pages and their shared files (infra/localrun/console_pages.py), over
real HTTP: every script a file pinned to its content hash, cached for a year only under that hash, the
pages under a CSP without inline scripts, and anything else under /console/static/ a 404 problem."""
from __future__ import annotations

import re

import httpx
import pytest

from infra.localrun.console_pages import CONSOLE, PAGES, content_hash

ALL_PAGES = (*PAGES, "outbox")


@pytest.mark.parametrize("name", ALL_PAGES)
def test_a_page_loads_console_js_pinned_and_no_inline_script(client: httpx.Client, name: str) -> None:
    r = client.get(f"/console/{name}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", r.text, flags=re.S)
    assert scripts, name
    assert all('src="' in attrs and body.strip() == "" for attrs, body in scripts), "an inline script"
    sources = [re.search(r'src="([^"]+)"', attrs).group(1) for attrs, _ in scripts]  # type: ignore[union-attr]
    assert sources == [f"/console/static/console.js?v={content_hash('console.js')}",
                       f"/console/static/{name}.js?v={content_hash(name + '.js')}"]
    policy = r.headers["content-security-policy"]
    script_src = re.search(r"script-src ([^;]+)", policy).group(1)  # type: ignore[union-attr]
    assert script_src == "'self'" and "unsafe-eval" not in policy and "object-src 'none'" in policy
    assert r.headers["cache-control"] == "no-cache"  # revalidated: a new hash is seen at the next load
    assert "<script>" not in r.text and " on" + "click=" not in r.text


def test_a_pinned_file_is_cached_for_a_year_and_an_unpinned_one_revalidates(client: httpx.Client) -> None:
    digest = content_hash("console.js")
    pinned = client.get(f"/console/static/console.js?v={digest}")
    assert pinned.status_code == 200 and pinned.content == (CONSOLE / "console.js").read_bytes()
    assert pinned.headers["content-type"] == "text/javascript; charset=utf-8"
    assert pinned.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert pinned.headers["etag"] == f'"{digest}"' and pinned.headers["x-content-type-options"] == "nosniff"
    for stale in ("/console/static/console.js", "/console/static/console.js?v=0123456789abcdef"):
        r = client.get(stale)  # an old page's hash gets today's file, never cached as if it were the old one
        assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"
    again = client.get("/console/static/console.js", headers={"If-None-Match": f'"{digest}"'})
    assert again.status_code == 304 and again.content == b""
    css = client.get("/console/static/console.css")
    assert css.status_code == 200 and css.headers["content-type"] == "text/css; charset=utf-8"


@pytest.mark.parametrize("path", ["/console/static/nothing.js", "/console/static/..%2Fserver.py",
                                  "/console/static/chat.html", "/console/static/.console.js",
                                  "/console/static/" + "a" * 300 + ".js", "/console/static/CONSOLE.JS",
                                  "/console/static/console.js%00.js"])
def test_anything_else_under_static_is_a_404_problem(client: httpx.Client, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "ROUTE_NOT_FOUND" and "import" not in r.text


def test_a_write_to_a_static_file_is_refused(client: httpx.Client) -> None:
    r = client.post("/console/static/console.js", content=b"alert(1)")
    assert r.status_code in (404, 405) and r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/console/static/console.js").content == (CONSOLE / "console.js").read_bytes()
