"""Identity Toolkit at the edge (a cloud API with no local emulator in ``make test``; the Auth emulator
runs the same calls in the opt-in tests): ``accounts:lookup`` (200, no "users" for an unknown account)
and ``accounts:update`` (400 USER_NOT_FOUND, 400 CLAIMS_TOO_LARGE over 1,000 characters), as documented.
The Firebase adapters' tests point their endpoint at it."""
from __future__ import annotations

import json
import threading
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


class IdentityToolkitFake:
    """accounts:lookup (200, no "users" for an unknown account) and accounts:update (400 USER_NOT_FOUND,
    400 CLAIMS_TOO_LARGE over 1,000 characters)."""

    def __init__(self) -> None:
        self.accounts: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, Any]] = []  # (path, authorization, body)
        self.vanish_on_update: set[str] = set()  # accounts deleted just before their update arrives
        self.status = 200
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{self._server.server_port}"

    @Request.application
    def _app(self, request: Request) -> Response:
        body = json.loads(request.get_data() or b"{}")
        method = request.path.rsplit("/", 1)[-1]
        self.requests.append((request.path, request.headers.get("Authorization", ""), body))
        if self.status != 200:
            return Response('{"error": {"code": 503, "message": "UNAVAILABLE"}}', status=self.status)
        if method == "accounts:lookup":
            users = [{"localId": uid, **self.accounts[uid]} for uid in body["localId"] if uid in self.accounts]
            return Response(json.dumps({"kind": "identitytoolkit#GetAccountInfoResponse",
                                        **({"users": users} if users else {})}))
        if body["localId"] in self.vanish_on_update:
            self.accounts.pop(body["localId"], None)
        if body["localId"] not in self.accounts:
            return Response('{"error": {"code": 400, "message": "USER_NOT_FOUND"}}', status=400)
        if len(body["customAttributes"]) > 1000:
            return Response('{"error": {"code": 400, "message": "CLAIMS_TOO_LARGE"}}', status=400)
        self.accounts[body["localId"]]["customAttributes"] = body["customAttributes"]
        return Response(json.dumps({"localId": body["localId"]}))

    def updates(self) -> list[Any]:
        return [body for path, _, body in self.requests if path.endswith("/accounts:update")]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
