"""kill -9 mid-request on the newer keyed POST routes (and an MCP tools/call keyed in its _meta): the
retry gives exactly one effect and the answer every later retry replays.

Each route's request is held by the runtime's test hook (kernel/crash_hold.py) at the widest window
there is: every effect committed with its idempotency journal, the response not yet stored. The test
waits for each hold's marker (so the kill lands at that point every time, not by timing luck), kills the
runtime, restarts it on the same data, and retries each request with the same key and the same bytes.
"""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.localrun.manifest import REPO
from studio.adapters.sqlite_store import SqliteStore
from studio.audits import paths as audit_paths
from studio.chat import paths as chat_paths
from studio.fonts import paths as font_paths
from studio.kernel.crash_hold import marker_name
from studio.kernel.idempotency import LEASE_S
from studio.media import paths as media_paths
from studio.nexus import paths as nexus_paths
from studio.ports.store import Query
from studio.tools.mcp import IDEMPOTENCY_META
from studio.video import paths as video_paths
from tests.support.api import PASSWORD, User, new_tenant, new_user
from tests.support.runtime_process import RuntimeProcess

pytestmark = pytest.mark.slow
MANIFEST = str(REPO / "tests" / "fixtures" / "crash_routes_manifest.yaml")
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
ACCEPT = {"Accept": "application/json, text/event-stream"}  # what an MCP client sends; harmless elsewhere
BOUNDARY = "crash-safety-boundary-7f3a"  # fixed: a retry must send the very bytes (the key's fingerprint)


@dataclass(frozen=True)
class Keyed:
    """One route's keyed POST, as bytes, and where its effect lands."""

    name: str
    url: str
    body: bytes
    content_type: str
    collection: str  # the store collection holding the effect's documents
    effect_id: Callable[[dict[str, Any]], str]  # the effect's document id, read from the answer
    status: int
    # The retry's answer is rebuilt from the dead attempt's journal (Idempotent-Replayed). Two routes find
    # the effect before any journaled step: a tool call its invoker's record (tools/invoker.py), a font its
    # content-addressed document (fonts/fonts.py).
    rebuilt: bool = True


def _json(name: str, url: str, body: dict[str, Any], collection: str, effect_id: Callable[[dict[str, Any]], str],
          status: int, rebuilt: bool = True) -> Keyed:
    return Keyed(name, url, json.dumps(body).encode(), "application/json", collection, effect_id, status, rebuilt)


def _font_form() -> bytes:
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"DejaVuSans.ttf\"\r\n"
            "Content-Type: font/ttf\r\n\r\n").encode()
    return head + DEJAVU.read_bytes() + f"\r\n--{BOUNDARY}--\r\n".encode()


def _mcp_call(thread_id: str, key: str) -> dict[str, Any]:
    """A tools/call with its key in _meta (the route ignores Idempotency-Key: tools/keyed_calls.py holds it)."""
    return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "chat.post_message", "arguments": {"thread_id": thread_id, "text": "once, over MCP"},
        "_meta": {IDEMPOTENCY_META: key}}}


def _cases(c: httpx.Client, user: User, tenant: str, keys: Callable[[str], str]) -> list[Keyed]:
    h = user.in_tenant(tenant)
    thread_id, mcp_thread = (c.post("/chat/threads", json={"title": t, "agent_id": "muse"}, headers=h).json()["id"]
                             for t in ("tool", "mcp"))
    project = c.post("/video/projects", json={"name": "Titles", "timeline": {
        "tracks": [{"id": "titles", "kind": "text", "clips": [{"id": "t", "text": "Once", "start": 0, "duration": 1}]}],
        "output": {"width": 160, "height": 120, "fps": 10}}}, headers=h)
    assert project.status_code == 201, project.text
    env = (tenant, "dev")
    return [
        _json("upload", "/media-v2/uploads", {"filename": "a.png", "content_type": "image/png", "size_bytes": 1000},
              media_paths.assets(*env), lambda r: r["asset_id"], 201),
        _json("tool", "/tools/chat.post_message/invoke", {"input": {"thread_id": thread_id, "text": "once, by a tool"}},
              chat_paths.messages(tenant, "dev", thread_id), lambda r: f"{r['output']['seq']:012d}", 200, rebuilt=False),
        _json("audit", "/audits", {"html": "<html><body><h1>Once</h1></body></html>", "kinds": ["accessibility"],
                                   "breakpoints": [375]}, audit_paths.audits(*env), lambda r: r["id"], 202),
        _json("render", "/video/render", {"project_id": project.json()["id"], "rev": project.json()["rev"]},
              video_paths.jobs(*env), lambda r: r["id"], 202),
        _json("nexus", "/nexus/raw", {"title": "Once", "format": "text", "content": "written exactly once"},
              nexus_paths.raw_docs(*env), lambda r: r["id"], 202),
        _json("mcp", "/mcp", _mcp_call(mcp_thread, keys("mcp")), chat_paths.messages(tenant, "dev", mcp_thread),
              lambda r: f"{r['result']['structuredContent']['seq']:012d}", 200, rebuilt=False),
        Keyed("font", "/fonts", _font_form(), f"multipart/form-data; boundary={BOUNDARY}", font_paths.fonts(*env),
              lambda r: r["id"], 201, rebuilt=False),
    ]


def _wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def _send(c: httpx.Client, case: Keyed, headers: dict[str, str], deadline: float) -> httpx.Response:
    """Retry as a client would: while the dead attempt's lease runs, wait the Retry-After given."""
    while True:
        r = c.post(case.url, content=case.body, headers={**headers, "Content-Type": case.content_type, **ACCEPT})
        if r.status_code != 409 or r.json().get("code") != "IDEMPOTENCY_KEY_IN_USE":
            return r
        wait = int(r.headers["retry-after"])
        assert 1 <= wait <= LEASE_S and time.monotonic() + wait < deadline, (case.name, wait)
        time.sleep(wait)


def _effects(store: SqliteStore, case: Keyed) -> list[str]:
    return [d.doc_id for d in store.query(Query(case.collection, limit=100)).docs
            if case.name not in ("tool", "mcp") or d.data.get("role") == "user"]


def test_each_new_keyed_post_killed_before_its_reply_has_one_effect_and_one_answer(tmp_path: Path) -> None:
    data, holds = tmp_path / "data", tmp_path / "holds"
    holds.mkdir()
    env = {"STUDIO_MANIFEST": MANIFEST, "STUDIO_RATE_LIMIT_PER_MINUTE": "100000", "STUDIO_TEST_HOLD_DIR": str(holds)}
    first = RuntimeProcess(data, STUDIO_TEST_HOLD_KEYS="hold-.*", **env).start(timeout=60)
    try:
        with httpx.Client(base_url=first.base_url, timeout=60) as c:
            user = new_user(c)
            tenant = new_tenant(c, user, "Killed")
            run_id = uuid.uuid4().hex[:8]
            cases = _cases(c, user, tenant, lambda name: f"hold-{name}-{run_id}")
        keys = {case.name: f"hold-{case.name}-{run_id}" for case in cases}

        answered: dict[str, str] = {}  # a request that answered was not held: the test says why

        def post(case: Keyed) -> None:
            try:
                with httpx.Client(base_url=first.base_url, timeout=600) as c:
                    r = c.post(case.url, content=case.body, headers={
                        **user.in_tenant(tenant), "Content-Type": case.content_type, "Idempotency-Key": keys[case.name], **ACCEPT})
                answered[case.name] = f"{r.status_code} {r.text[:300]}"
            except httpx.HTTPError:
                pass  # the kill

        pool = ThreadPoolExecutor(max_workers=len(cases))
        for case in cases:
            pool.submit(post, case)
        _wait_for(lambda: all((holds / marker_name(k)).exists() for k in keys.values()) or bool(answered))
        assert not answered, answered
        first.kill9()  # every request is held with its effect committed and its answer unsent
        pool.shutdown(wait=True)
    finally:
        first.stop()
    store = SqliteStore(data / "store.db")
    before = {case.name: _effects(store, case) for case in cases}
    assert all(len(ids) == 1 for ids in before.values()), before  # the effects were in before the kill

    second = RuntimeProcess(data, **env).start(timeout=60)  # no holds now
    try:
        with httpx.Client(base_url=second.base_url, timeout=60) as c:
            token = c.post("/auth/login", json={"email": user.email, "password": PASSWORD}).json()["access_token"]
            h = {"Authorization": f"Bearer {token}", "X-Tenant-Id": tenant, "X-Env": "dev"}
            deadline = time.monotonic() + LEASE_S + 30
            for case in cases:
                keyed = {**h, "Idempotency-Key": keys[case.name]}
                healed = _send(c, case, keyed, deadline)
                assert healed.status_code == case.status, (case.name, healed.status_code, healed.text)
                if case.rebuilt:
                    assert healed.headers.get("idempotent-replayed") == "true", case.name
                again = _send(c, case, keyed, deadline)
                assert (again.status_code, again.json()) == (healed.status_code, healed.json()), case.name
                if case.name != "mcp":  # /mcp is not a kernel-keyed route: its replay is in the JSON-RPC answer
                    assert again.headers.get("idempotent-replayed") == "true"
                assert _effects(store, case) == before[case.name], case.name  # still exactly one
                assert case.effect_id(healed.json()) == before[case.name][0], case.name  # and the answer names it
    finally:
        second.stop()
        store.close()
