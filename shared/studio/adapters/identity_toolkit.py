"""Identity Toolkit REST (Firebase Auth / Identity Platform), the one client both Firebase adapters use.

``POST {endpoint}/v1/projects/{project}/{method}`` with a JSON body and an OAuth access token from
``credentials_provider`` (``google_credentials.access_token_provider()`` in production; the Auth
emulator accepts the literal ``owner``: ``IdentityToolkit.for_emulator``). Plain urllib, so a
function pays no Google client import.

Failures that say nothing about the account (network, timeout, 401/403 of our credential, 429, 5xx,
a body that is not a JSON object) raise ``errors.Unavailable``: callers fail closed and are retried.
A 400 carries Google's reason (``USER_NOT_FOUND``, ``CLAIMS_TOO_LARGE`` ...) as ``Refused``.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from studio.kernel import errors

PRODUCTION_ENDPOINT = "https://identitytoolkit.googleapis.com"


class Refused(Exception):
    """A 400 from Identity Toolkit, with its reason (``USER_NOT_FOUND``, ``CLAIMS_TOO_LARGE`` ...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IdentityToolkit:
    def __init__(self, project: str, *, endpoint: str = PRODUCTION_ENDPOINT,
                 credentials_provider: Callable[[], str] | None = None, timeout_s: float = 10,
                 failure: str = "Identity Toolkit {method}") -> None:
        """``failure`` names a failed call in Unavailable's detail (``{method}`` is filled in)."""
        if not project:
            raise ValueError("a Firebase project id is required")
        if credentials_provider is None:
            raise ValueError("credentials_provider is required: pass "
                             "studio.adapters.google_credentials.access_token_provider() in production, "
                             "or use the adapter's for_emulator")
        self.project = project
        self._base = f"{endpoint.rstrip('/')}/v1/projects/{project}"
        self._token = credentials_provider
        self._timeout_s = timeout_s
        self._failure = failure

    @staticmethod
    def emulator_endpoint(host: str) -> str:
        """``host`` as in FIREBASE_AUTH_EMULATOR_HOST (``127.0.0.1:9099``)."""
        return f"http://{host}/identitytoolkit.googleapis.com"

    def call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        """The JSON object Identity Toolkit answers; ``Refused`` for a 400 with a reason."""
        failed = self._failure.format(method=method)
        request = urllib.request.Request(
            f"{self._base}/{method}", data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._token()}"})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as resp:  # noqa: S310 (https/loopback URL we built)
                doc = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            try:
                reason = _reason(exc.read()) if exc.code == 400 else ""
            except OSError:
                reason = ""
            finally:
                exc.close()  # it holds the response's socket
            if reason:
                raise Refused(reason) from None
            # 401/403 (our credential), 429 (quota), 5xx: none is a verdict on the account.
            raise errors.Unavailable(f"{failed} failed (HTTP {exc.code})") from None
        except (OSError, ValueError) as exc:
            raise errors.Unavailable(f"{failed} failed ({type(exc).__name__})") from None
        if not isinstance(doc, dict):
            raise errors.Unavailable(f"{failed} returned an unexpected body")
        return doc

    def lookup(self, uid: str) -> dict[str, Any] | None:
        """``accounts:lookup`` of one account: its record, or None when there is no such account."""
        try:
            doc = self.call("accounts:lookup", {"localId": [uid]})
        except Refused as exc:
            raise errors.Unavailable(f"{self._failure.format(method='accounts:lookup')} was refused") from exc
        users = doc.get("users")
        if not users:  # lookup answers 200 without "users" for an unknown (e.g. deleted) account
            return None
        user = users[0] if isinstance(users, list) else None
        if not isinstance(user, dict):
            raise errors.Unavailable("account lookup returned an unexpected body")
        return user


def _reason(body: bytes) -> str:
    """The reason of a Google error body, ``{"error": {"message": "USER_NOT_FOUND : ..."}}``."""
    try:
        message = json.loads(body)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return "HTTP 400"
    return str(message).split(" ", 1)[0] or "HTTP 400"
