"""CORS for real: a page in headless Chromium, served from another loopback port, calls the API
with fetch (JSON bodies, bearer token and tenant headers: preflighted), reads the exposed
headers, and follows a thread with EventSource. The same page from an origin the runtime does
not list cannot read anything. The runtime is a separate process configured as Terraform
configures a deployment: STUDIO_CORS_ORIGINS lists the one allowed origin."""
from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.api import PASSWORD
from tests.support.browser import CHROMIUM, FLAGS
from tests.support.runtime_process import RuntimeProcess
from tests.support.shared_process import free_port

pytestmark = pytest.mark.slow

FRONTEND = """
async (api) => {
  const json = (r) => r.json();
  const post = (path, body, headers = {}) => fetch(api + path, {method: "POST", body: JSON.stringify(body),
    headers: {"Content-Type": "application/json", ...headers}});
  const email = `cors-${Date.now()}@example.com`;
  await post("/auth/signup", {email, password: PASSWORD});
  const tokens = await post("/auth/login", {email, password: PASSWORD}).then(json);
  const auth = {Authorization: `Bearer ${tokens.access_token}`};
  const tenant = (await post("/auth/bootstrap", {tenant_name: "Cors"}, auth).then(json)).tenant_id;
  const scoped = {...auth, "X-Tenant-Id": tenant, "X-Env": "dev"};
  const created = await post("/chat/threads", {title: "from another origin"},
                             {...scoped, "Idempotency-Key": "k-1", "X-Request-Id": "frontend-trace-1"});
  const thread = await created.json();
  const replay = await post("/chat/threads", {title: "from another origin"}, {...scoped, "Idempotency-Key": "k-1"});
  const renamed = await fetch(api + `/chat/threads/${thread.id}`, {method: "PATCH",
    headers: {...scoped, "Content-Type": "application/json", "If-Match": created.headers.get("ETag")},
    body: JSON.stringify({title: "renamed"})});
  const ticket = (await post("/realtime/tickets", {thread_id: thread.id}, scoped).then(json)).ticket;
  const event = await new Promise((resolve, reject) => {
    const source = new EventSource(api + `/sse/chat/${thread.id}?ticket=${ticket}&since=0`);
    source.addEventListener("message.created", (e) => { source.close(); resolve(JSON.parse(e.data)); });
    source.onerror = () => { source.close(); reject(new Error("EventSource failed")); };
    source.onopen = () => post(`/sse/chat/${thread.id}`, {text: "hello across origins"}, scoped);
  });
  return {status: created.status, etag: created.headers.get("ETag"),
          requestId: created.headers.get("X-Request-Id"),
          replayed: replay.headers.get("Idempotent-Replayed"), renamed: renamed.status,
          eventText: event.data.text};
}
""".replace("PASSWORD", repr(PASSWORD))

FOREIGN = """
async (api) => {
  try {
    await fetch(api + "/auth/login", {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"});
    return "read";
  } catch (e) { return e.name; }
}
"""


class _Blank(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        body = b"<!doctype html><title>frontend</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def frontend() -> Iterator[int]:
    """A frontend dev server: a blank page on its own loopback port."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Blank)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_page_on_an_allowed_origin_calls_the_api_and_streams(tmp_path: Path, frontend: int) -> None:
    if not shutil.which("chromium") and not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (infra/install-browser.sh)")
    from playwright.sync_api import sync_playwright

    allowed = f"http://127.0.0.1:{frontend}"
    runtime = RuntimeProcess(tmp_path, STUDIO_CORS_ORIGINS=allowed).start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            try:
                page = browser.new_page()
                page.goto(allowed + "/")
                got = page.evaluate(FRONTEND, runtime.base_url)
                assert got["status"] == 201 and got["etag"] == "\"1\"", got
                assert got["requestId"] == "frontend-trace-1"
                assert got["replayed"] == "true"
                assert got["renamed"] == 200
                assert got["eventText"] == "hello across origins"
                page.goto(f"http://localhost:{frontend}/")  # the same page from an origin not listed
                assert page.evaluate(FOREIGN, runtime.base_url) == "TypeError"
            finally:
                browser.close()
    finally:
        runtime.stop()
