"""BYOK keys over HTTP: add, list (last four and fingerprint only), rotate, delete, owners and admins only;
the key is held by the real secrets port. End to end in a runtime process whose agents use an
OpenAI-compatible provider (a loopback server that speaks its API: no emulator exists): the tenant's key
and configured model reach the provider. And the key never shows: no response body and no log line
(this test's records, and the whole runtime process's output) contains it."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from infra.localrun.manifest import REPO
from studio.byok import paths as byok_paths
from studio.kernel import errors
from tests.support.api import User, add_member, new_tenant, new_user
from tests.support.platform import RunningPlatform, free_port

# Assembled at run time so that secret scanners do not mistake this file for a leak; not real keys.
KEY_1 = "sk-" + "byokTestKeyOne" + "A1b2C3d4E5f6G7h8"
KEY_2 = "sk-" + "byokTestKeyTwo" + "Z9y8X7w6V5u4T3s2"
STORED = (KEY_1, KEY_2)


class _Everything(logging.Handler):
    """Every record any logger emits while these tests run, formatted as the runtime would write it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {getattr(record, 'fields', '')} {record.__dict__}")


@pytest.fixture(scope="module")
def seen() -> Iterator[tuple[list[str], _Everything]]:
    """Response bodies this module saw, and log lines; checked by the last test for the stored keys."""
    handler = _Everything()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    bodies: list[str] = []
    yield bodies, handler
    root.removeHandler(handler)
    root.setLevel(old_level)


def _call(client: httpx.Client, bodies: list[str], method: str, url: str, **kw: object) -> httpx.Response:
    r = client.request(method, url, **kw)  # type: ignore[arg-type]
    bodies.append(r.text + json.dumps(dict(r.headers)))
    return r


def test_add_list_rotate_delete(client: httpx.Client, owner: User, tenant: str, platform: RunningPlatform,
                                seen: tuple[list[str], _Everything]) -> None:
    bodies, _ = seen
    h = owner.in_tenant(tenant)
    url = f"/tenants/{tenant}/keys/openai"
    assert _call(client, bodies, "GET", f"/tenants/{tenant}/keys", headers=h).json() == {"keys": []}
    assert _call(client, bodies, "PUT", url, json={"key": KEY_1}, headers=h).status_code == 428
    added = _call(client, bodies, "PUT", url, json={"key": KEY_1, "base_rev": 0}, headers=h)
    assert added.status_code == 200, added.text
    first = added.json()
    assert first["last4"] == KEY_1[-4:] and first["fingerprint"].startswith("sha256:") and first["rev"] == 1
    assert first["rotated_at"] is None and first["version"] == 1
    secrets = platform.deps.secrets
    name = byok_paths.secret_name(tenant, "openai")
    assert secrets.get(name).decode() == KEY_1  # held by the secrets port, not the store
    listed = _call(client, bodies, "GET", f"/tenants/{tenant}/keys", headers=h).json()["keys"]
    assert listed == [first]

    rotated = _call(client, bodies, "PUT", url, json={"key": KEY_2}, headers={**h, "If-Match": '"1"'}).json()
    assert rotated["last4"] == KEY_2[-4:] and rotated["fingerprint"] != first["fingerprint"]
    assert rotated["rev"] == 2 and rotated["version"] == 2 and rotated["rotated_at"]
    assert secrets.get(name).decode() == KEY_2
    with pytest.raises(errors.NotFound):  # the old key cannot be read any more
        secrets.get(name, 1)
    stale = _call(client, bodies, "PUT", url, json={"key": KEY_1, "base_rev": 1}, headers=h)
    assert stale.status_code == 409 and secrets.get(name).decode() == KEY_2

    assert _call(client, bodies, "DELETE", url, headers={**h, "If-Match": '"2"'}).status_code == 204
    assert _call(client, bodies, "GET", f"/tenants/{tenant}/keys", headers=h).json() == {"keys": []}
    assert secrets.versions(name) == [] if name in secrets.list_names("byok_") else True
    assert _call(client, bodies, "DELETE", url, headers={**h, "If-Match": '"2"'}).status_code == 404


def test_a_write_refused_in_its_transaction_leaves_no_readable_version(owner: User, tenant: str,
                                                                     platform: RunningPlatform) -> None:
    """A writer that raced past the kernel's early revision check (here: the service called with a stale
    base_rev) is refused in its transaction; the secret version it added is disabled again."""
    from studio.byok.services import byok_services
    from studio.kernel.context import Principal, RequestContext
    from studio.kernel.roles import Role

    keys = byok_services(platform.deps).keys
    ctx = RequestContext(tenant, "dev", Principal(owner.user_id), Role.OWNER)
    keys.put(ctx, "gemini", KEY_1, 0)
    with pytest.raises(errors.RevisionConflict):
        keys.put(ctx, "gemini", KEY_2, 0)  # stale: the key is at rev 1
    name = byok_paths.secret_name(tenant, "gemini")
    assert platform.deps.secrets.versions(name) == [1, 2]
    with pytest.raises(errors.NotFound):
        platform.deps.secrets.get(name, 2)  # the refused key
    assert keys.api_key(tenant, "gemini") == KEY_1 and platform.deps.secrets.get(name).decode() == KEY_1


def test_bad_keys_providers_roles_and_tenants(client: httpx.Client, owner: User, tenant: str,
                                              seen: tuple[list[str], _Everything]) -> None:
    bodies, _ = seen
    h = owner.in_tenant(tenant)
    for body in ({"key": "short", "base_rev": 0}, {"key": "x" * 513, "base_rev": 0}, {"key": 12345678901234567, "base_rev": 0},
                 {"key": KEY_1, "base_rev": 0, "extra": True}, {"base_rev": 0}):
        r = _call(client, bodies, "PUT", f"/tenants/{tenant}/keys/openai", json=body, headers=h)
        assert r.status_code == 400, (body, r.text)
    spaced = _call(client, bodies, "PUT", f"/tenants/{tenant}/keys/openai",
                   json={"key": "sk-has a space-" + "a" * 20, "base_rev": 0}, headers=h)
    assert spaced.status_code == 400 and spaced.json()["code"] == "KEY_MALFORMED"
    unknown = _call(client, bodies, "PUT", f"/tenants/{tenant}/keys/local", json={"key": KEY_1, "base_rev": 0}, headers=h)
    assert unknown.status_code == 404

    member = new_user(client, "member")
    add_member(client, owner, tenant, member, "member")
    for method, url in (("GET", f"/tenants/{tenant}/keys"), ("PUT", f"/tenants/{tenant}/keys/openai")):
        r = _call(client, bodies, method, url, json={"key": KEY_1, "base_rev": 0}, headers=member.in_tenant(tenant))
        assert r.status_code == 403 and r.json()["code"] == "ROLE_INSUFFICIENT"
    other_owner = new_user(client, "other")
    other = new_tenant(client, other_owner)
    assert _call(client, bodies, "PUT", f"/tenants/{other}/keys/openai", json={"key": KEY_1, "base_rev": 0},
                 headers=h).status_code in (400, 403)  # another tenant's path under my headers
    assert _call(client, bodies, "GET", f"/tenants/{tenant}/keys",
                 headers=other_owner.in_tenant(tenant)).status_code == 403


class _Provider:
    """An OpenAI-compatible endpoint on loopback that records who called it with which model."""

    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)

    @Request.application
    def app(self, request: Request) -> Response:
        body = json.loads(request.get_data() or b"{}")
        self.calls.append({"authorization": request.headers.get("Authorization", ""), "model": body.get("model", "")})
        events = [{"choices": [{"delta": {"content": p}}]} for p in ("Hello", " from", " byok")]
        return Response("".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n",
                        content_type="text/event-stream")


@pytest.fixture(scope="module")
def openai_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, _Provider, Path]]:
    provider = _Provider()
    thread = threading.Thread(target=provider.server.serve_forever, daemon=True)
    thread.start()
    port = free_port()
    log = tmp_path_factory.mktemp("byok-runtime") / "runtime.log"
    env = {**os.environ, "PORT": str(port), "STUDIO_DATA_DIR": str(log.parent / "data"), "STUDIO_LLM": "openai",
           "STUDIO_LLM_BASE_URL": f"http://127.0.0.1:{provider.server.server_port}/v1", "STUDIO_LLM_MODEL": "platform-model"}
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "infra.localrun"], cwd=REPO, env=env, stdout=out, stderr=out)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
                time.sleep(0.1)
            yield base, provider, log
        finally:
            proc.terminate()
            proc.wait(timeout=15)
            provider.server.shutdown()


def _say(client: httpx.Client, thread: str, h: dict[str, str], bodies: list[str], text: str) -> dict[str, object]:
    """Post a message and wait for the agent's finished reply to it."""
    posted = _call(client, bodies, "POST", f"/chat/threads/{thread}/messages", json={"text": text}, headers=h)
    assert posted.status_code == 201, posted.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        messages = _call(client, bodies, "GET", f"/chat/threads/{thread}/messages", headers=h).json()["messages"]
        done = [m for m in messages if m["role"] == "agent" and m["status"] != "streaming"
                and m["reply_to"] == posted.json()["seq"]]
        if done:
            return dict(done[-1])
        time.sleep(0.1)
    raise AssertionError("no reply")


def test_the_tenants_key_and_model_reach_the_provider(openai_runtime: tuple[str, _Provider, Path],
                                                      seen: tuple[list[str], _Everything]) -> None:
    bodies, _ = seen
    base, provider, _log = openai_runtime
    with httpx.Client(base_url=base, timeout=30) as c:
        owner = new_user(c, "byok-e2e")
        tenant = new_tenant(c, owner)
        h = owner.in_tenant(tenant)
        thread = _call(c, bodies, "POST", "/chat/threads", json={"title": "byok"}, headers=h).json()["id"]
        assert _say(c, thread, h, bodies, "hi")["text"] == "Hello from byok"
        assert provider.calls[-1] == {"authorization": "", "model": "platform-model"}  # no key anywhere: none sent

        assert _call(c, bodies, "PUT", f"/tenants/{tenant}/keys/openai", json={"key": KEY_1, "base_rev": 0},
                     headers=h).status_code == 200
        config = _call(c, bodies, "PUT", "/runtime-config", headers=h, json={
            "agents": {"muse": {"provider": "openai", "model": "tenant-model-1"}}, "base_rev": 0})
        assert config.status_code == 200, config.text
        _say(c, thread, h, bodies, "again")
        assert provider.calls[-1] == {"authorization": f"Bearer {KEY_1}", "model": "tenant-model-1"}
        deadline = time.monotonic() + 15  # the DatasetEvent is stored by its writer function, through the bus
        while True:
            logged = _call(c, bodies, "GET", "/events/datasets", params={"surface": "chat"}, headers=h).json()["events"]
            if len(logged) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert [e["model"] for e in logged[:2]] == ["tenant-model-1", "platform-model"]  # the model each reply used

        _call(c, bodies, "PUT", f"/tenants/{tenant}/keys/openai", json={"key": KEY_2, "base_rev": 1}, headers=h)
        _say(c, thread, h, bodies, "rotated")
        assert provider.calls[-1]["authorization"] == f"Bearer {KEY_2}"  # the next call uses the rotated key

        wrong = _call(c, bodies, "PUT", "/runtime-config", headers=h, json={
            "agents": {"muse": {"provider": "gemini"}}, "base_rev": 1})
        assert wrong.status_code == 422 and wrong.json()["code"] == "PROVIDER_NOT_DEPLOYED"


def test_no_stored_key_in_any_response_body_or_log_line(openai_runtime: tuple[str, _Provider, Path],
                                                        seen: tuple[list[str], _Everything]) -> None:
    """Runs last in this module: every body and header seen above, every log record emitted in this
    process while it ran, and every line the runtime process wrote."""
    bodies, handler = seen
    _, _, log = openai_runtime
    assert len(bodies) > 20 and handler.lines and log.stat().st_size > 0
    runtime_lines = log.read_text(errors="replace").splitlines()
    assert any("POST /chat/threads" in line or "/chat/threads" in line for line in runtime_lines)
    for key in STORED:
        for part in (key, key[3:], key[:-4]):  # whole, or all but its prefix or its last four
            assert not [b for b in bodies if part in b]
            assert not [line for line in handler.lines if part in line]
            assert not [line for line in runtime_lines if part in line]
