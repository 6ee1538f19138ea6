"""A platform whose tenant HTTP tools may call 127.0.0.2 (the allow-list), a tool server there, and a
tenant with one member of each role: what the tools matrix, MCP and SSRF tests share.

The runtime runs as its own process (``python -m infra.localrun``) so it gets its own settings
(``STUDIO_TOOL_URL_ALLOW``) beside the session's platform; the tool server answers on 127.0.0.2, a
loopback address the guard refuses unless allow-listed (127.0.0.1 stays refused).
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from tests.support.api import User, add_member, new_tenant, new_user
from tests.support.runtime_process import RuntimeProcess

ALLOWED_HOST = "127.0.0.2"
DANGERS = ("none", "low", "high", "critical")
ROLES = ("viewer", "member", "admin", "owner")


@dataclass
class ToolServer:
    server: BaseWSGIServer
    seen: list[dict] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://{ALLOWED_HOST}:{self.server.server_port}"


def start_tool_server() -> ToolServer:
    holder: list[ToolServer] = []

    @Request.application
    def app(request: Request) -> Response:
        body = json.loads(request.get_data() or b"null")
        holder[0].seen.append({"path": request.path, "method": request.method, "host": request.host, "body": body})
        if request.path == "/redirect-to-metadata":
            return Response(status=302, headers={"Location": "http://169.254.169.254/computeMetadata/v1/"})
        if request.path == "/redirect-to-loopback":
            return Response(status=307, headers={"Location": "http://127.0.0.1:1/"})
        if request.path == "/redirect-inside":
            return Response(status=307, headers={"Location": "/echo"})
        if request.path == "/leak":  # an answer holding personal data the tenant's policy may not allow
            return Response(json.dumps({"ok": True, "contact": "grace@example.com"}), content_type="application/json")
        if request.path == "/not-json":
            return Response("hello", content_type="text/plain")
        return Response(json.dumps({"ok": True, "echo": (body or {}).get("input")}), content_type="application/json")

    server = make_server(ALLOWED_HOST, 0, app, threaded=True)
    holder.append(ToolServer(server))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return holder[0]


@dataclass
class ToolWorld:
    runtime: RuntimeProcess
    client: httpx.Client
    server: ToolServer
    tenant: str
    users: dict[str, User]  # role -> a member with that role

    def h(self, role: str = "owner", **extra: str) -> dict[str, str]:
        return {**self.users[role].in_tenant(self.tenant), **extra}

    def put_tool(self, name: str, url: str, **fields: object) -> httpx.Response:
        current = self.client.get(f"/tools/{name}", headers=self.h())
        base_rev = current.json()["rev"] if current.status_code == 200 else 0
        version = fields.pop("version", None) or (
            "1.0.0" if base_rev == 0 else _bump(current.json()["version"]))
        body = {"version": version, "title": name, "description": f"test tool {name}",
                "input_schema": {"type": "object", "properties": {"x": {"type": "integer"}}, "additionalProperties": False},
                "output_schema": {"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}},
                "idempotent": True, "url": url, "base_rev": base_rev, **fields}
        return self.client.put(f"/tools/{name}", json=body, headers=self.h())


def _bump(version: str) -> str:
    major, minor, patch = (int(p) for p in version.split("."))
    return f"{major}.{minor}.{patch + 1}"


def start_world(data_dir: Path) -> Iterator[ToolWorld]:
    runtime = RuntimeProcess(data_dir, STUDIO_TOOL_URL_ALLOW=f"{ALLOWED_HOST}/32", STUDIO_ECHO_TOKEN_DELAY_S="0",
                             STUDIO_RATE_LIMIT_PER_MINUTE="1000000", STUDIO_LOGIN_MAX_FAILURES_PER_IP="1000000").start()
    server = start_tool_server()
    try:
        with httpx.Client(base_url=runtime.base_url, timeout=30) as client:
            owner = new_user(client, "owner")
            tenant = new_tenant(client, owner)
            users = {"owner": owner}
            for role in ("viewer", "member", "admin"):
                users[role] = new_user(client, role)
                add_member(client, owner, tenant, users[role], role)
            yield ToolWorld(runtime, client, server, tenant, users)
    finally:
        server.server.shutdown()
        runtime.stop()


def wait_for_reply(world: ToolWorld, user: User, thread_id: str, user_seq: int, timeout: float = 20) -> dict:
    """The agent's reply to ``user_seq`` once it is complete or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = world.client.get(f"/chat/threads/{thread_id}/messages", params={"since": user_seq},
                             headers=user.in_tenant(world.tenant))
        for message in r.json()["messages"]:
            if message["reply_to"] == user_seq and message["status"] != "streaming":
                return dict(message)
        time.sleep(0.05)
    raise AssertionError(f"no finished reply to {user_seq} in {thread_id}")
