"""A small in-process fake of the Secret Manager v1 REST API, for the GCP secrets adapter's tests.

Secret Manager has no local emulator, so this is the one permitted fake "at the edge of the machine".
It covers exactly the calls ``SecretManagerStore`` makes, with Google's JSON shapes and error statuses:

  POST   /v1/projects/{p}/secrets?secretId=ID          create (409 ALREADY_EXISTS, 400 without replication)
  GET    /v1/projects/{p}/secrets                       list (paged)
  DELETE /v1/projects/{p}/secrets/{s}                   delete (404)
  POST   /v1/projects/{p}/secrets/{s}:addVersion        add a version (404 if no secret, crc32c checked)
  GET    /v1/projects/{p}/secrets/{s}/versions          list versions, newest first (paged)
  GET    /v1/projects/{p}/secrets/{s}/versions/{v}:access   access; `latest` = newest CREATED version,
                                                        400 FAILED_PRECONDITION if it is disabled
  POST   /v1/projects/{p}/secrets/{s}/versions/{v}:disable  disable (idempotent)

Resource names in responses use a project NUMBER, as the real API does, so the adapter must not
compare names with its project id. Enums follow ``$alt=json;enum-encoding=int`` when the client asks for
it (the Python REST transport always does). Pages are capped at ``page_cap`` items: servers may return
fewer than ``pageSize`` (AIP-158), and a small cap makes the adapter's paging run in tests.
tests/contract/test_secrets_gcp.py holds this fake to the documented behaviour ("fidelity" tests) and
can run the same tests against a real project.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import threading
from typing import Any

import google_crc32c
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")
_STATES = {"ENABLED": 1, "DISABLED": 2}
_SECRETS = re.compile(r"/v1/projects/([^/]+)/secrets")
_SECRET = re.compile(r"/v1/projects/([^/]+)/secrets/([^/:]+)(:addVersion)?")
_VERSIONS = re.compile(r"/v1/projects/([^/]+)/secrets/([^/]+)/versions")
_VERSION = re.compile(r"/v1/projects/([^/]+)/secrets/([^/]+)/versions/([^/:]+):(access|disable)")


class ApiError(Exception):
    def __init__(self, code: int, status: str, message: str) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeSecretManager:
    def __init__(self, page_cap: int = 2) -> None:
        self.page_cap = page_cap
        self.calls: list[str] = []  # "METHOD path" per request, for tests that count round trips
        self.corrupt_access = False  # fault injection: serve a wrong dataCrc32c, as a damaged reply would
        self._lock = threading.Lock()
        self._numbers: dict[str, str] = {}
        self._secrets: dict[tuple[str, str], dict[str, Any]] = {}  # (project number, id) -> secret
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FakeSecretManager:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def project_number(self, project: str) -> str:
        return self._number(project)

    # -- plumbing ------------------------------------------------------------------------

    def _number(self, project: str) -> str:
        if project.isdigit():
            return project
        return self._numbers.setdefault(project, str(100_000_000_001 + len(self._numbers)))

    def _secret(self, number: str, secret_id: str, *, access: bool = False) -> dict[str, Any]:
        secret = self._secrets.get((number, secret_id))
        if secret is None:
            suffix = " or has no versions" if access else ""
            raise ApiError(404, "NOT_FOUND", f"Secret [projects/{number}/secrets/{secret_id}] not found{suffix}.")
        return secret

    def _version(self, number: str, secret_id: str, ref: str, *, access: bool = False) -> tuple[int, dict]:
        secret = self._secret(number, secret_id, access=access)
        versions = secret["versions"]
        if ref == "latest" and access:
            if not versions:
                raise ApiError(404, "NOT_FOUND",
                               f"Secret [projects/{number}/secrets/{secret_id}] not found or has no versions.")
            return len(versions), versions[-1]  # newest created, whatever its state
        if not ref.isdigit() or int(ref) < 1:
            raise ApiError(400, "INVALID_ARGUMENT", f"Invalid secret version id [{ref}].")
        if int(ref) > len(versions):
            raise ApiError(404, "NOT_FOUND",
                           f"Secret Version [projects/{number}/secrets/{secret_id}/versions/{ref}] not found.")
        return int(ref), versions[int(ref) - 1]

    @staticmethod
    def _page(request: Request, items: list[dict], key: str, cap: int) -> dict[str, Any]:
        try:
            size = int(request.args.get("pageSize") or 0)
            start = int(request.args.get("pageToken") or 0)
        except ValueError:
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid page token or size.") from None
        size = min(size or cap, cap, 25_000)
        page = items[start:start + size]
        body: dict[str, Any] = {key: page} if page else {}
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        if items:
            body["totalSize"] = len(items)  # proto3 JSON omits zero values
        return body

    @staticmethod
    def _json(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.") from None
        if not isinstance(body, dict):
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        return body

    def _version_json(self, request: Request, number: str, secret_id: str, n: int, v: dict) -> dict:
        int_enums = "enum-encoding=int" in request.args.get("$alt", "")
        return {"name": f"projects/{number}/secrets/{secret_id}/versions/{n}", "createTime": v["createTime"],
                "state": _STATES[v["state"]] if int_enums else v["state"], "etag": f'"{v["etag"]}"',
                "replicationStatus": {"automatic": {}},
                "clientSpecifiedPayloadChecksum": v["clientChecksum"]}

    # -- the API ---------------------------------------------------------------------------

    @Request.application
    def _app(self, request: Request) -> Response:
        self.calls.append(f"{request.method} {request.path}")
        try:
            with self._lock:
                body = self._route(request)
            return Response(json.dumps(body), content_type="application/json")
        except ApiError as exc:
            error = {"error": {"code": exc.code, "message": exc.message, "status": exc.status}}
            return Response(json.dumps(error), status=exc.code, content_type="application/json")

    def _route(self, request: Request) -> dict[str, Any]:
        path, method = request.path, request.method
        if (m := _VERSION.fullmatch(path)) and method in ("GET", "POST"):
            return self._access_or_disable(request, *m.groups())
        if (m := _VERSIONS.fullmatch(path)) and method == "GET":
            number, secret_id = self._number(m[1]), m[2]
            versions = self._secret(number, secret_id)["versions"]
            items = [self._version_json(request, number, secret_id, n, v)
                     for n, v in reversed(list(enumerate(versions, start=1)))]  # newest first
            return self._page(request, items, "versions", self.page_cap)
        if (m := _SECRET.fullmatch(path)) and m[3] and method == "POST":
            return self._add_version(request, self._number(m[1]), m[2])
        if (m := _SECRET.fullmatch(path)) and not m[3] and method == "DELETE":
            number = self._number(m[1])
            self._secret(number, m[2])
            del self._secrets[(number, m[2])]
            return {}
        if (m := _SECRETS.fullmatch(path)) and method == "POST":
            return self._create(request, self._number(m[1]))
        if (m := _SECRETS.fullmatch(path)) and method == "GET":
            number = self._number(m[1])
            items = [s["json"] for (n, _), s in sorted(self._secrets.items()) if n == number]
            return self._page(request, items, "secrets", self.page_cap)
        raise ApiError(404, "NOT_FOUND", f"The requested URL {path} was not found on this server.")

    def _create(self, request: Request, number: str) -> dict[str, Any]:
        secret_id = request.args.get("secretId", "")
        if not _ID.fullmatch(secret_id):
            raise ApiError(400, "INVALID_ARGUMENT", "The secret ID must match [a-zA-Z_0-9-]{1,255}.")
        body = self._json(request)
        if not isinstance(body.get("replication"), dict) or not body["replication"]:
            raise ApiError(400, "INVALID_ARGUMENT", "Secret.replication is required.")
        name = f"projects/{number}/secrets/{secret_id}"
        if (number, secret_id) in self._secrets:
            raise ApiError(409, "ALREADY_EXISTS", f"Secret [{name}] already exists.")
        created = _now()
        self._secrets[(number, secret_id)] = {"versions": [], "json": {
            "name": name, "replication": body["replication"], "createTime": created,
            "etag": f'"{created}"'}}
        return self._secrets[(number, secret_id)]["json"]

    def _add_version(self, request: Request, number: str, secret_id: str) -> dict[str, Any]:
        payload = self._json(request).get("payload") or {}
        try:
            data = base64.b64decode(payload.get("data", ""), validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid value at 'payload.data' (TYPE_BYTES).") from None
        if len(data) > 64 * 1024:
            raise ApiError(400, "INVALID_ARGUMENT", "Secret payload data length must be at most 65536 bytes.")
        crc = google_crc32c.value(data)
        given = payload.get("dataCrc32c")
        if given is not None and str(given) != str(crc):
            raise ApiError(400, "INVALID_ARGUMENT", "Checksum mismatch: the payload is corrupted.")
        versions = self._secret(number, secret_id)["versions"]
        created = _now()
        versions.append({"data": data, "crc": crc, "state": "ENABLED", "createTime": created,
                         "etag": created, "clientChecksum": given is not None})
        return self._version_json(request, number, secret_id, len(versions), versions[-1])

    def _access_or_disable(self, request: Request, project: str, secret_id: str, ref: str, verb: str) -> dict:
        number = self._number(project)
        if verb == "access" and request.method == "GET":
            n, version = self._version(number, secret_id, ref, access=True)
            name = f"projects/{number}/secrets/{secret_id}/versions/{n}"
            if version["state"] != "ENABLED":
                raise ApiError(400, "FAILED_PRECONDITION", f"Secret Version [{name}] is in {version['state']} state.")
            return {"name": name, "payload": {"data": base64.b64encode(version["data"]).decode(),
                                              # int64 is a JSON string
                                              "dataCrc32c": str(version["crc"] ^ int(self.corrupt_access))}}
        if verb == "disable" and request.method == "POST":
            self._json(request)
            n, version = self._version(number, secret_id, ref)
            version["state"] = "DISABLED"
            version["etag"] = _now()
            return self._version_json(request, number, secret_id, n, version)
        raise ApiError(404, "NOT_FOUND", f"The requested URL {request.path} was not found on this server.")
