"""The ``tenants`` custom claim on Firebase Auth / Identity Platform accounts (STUDIO_AUTH=firebase).

Plain Identity Toolkit REST, as the Admin SDKs' ``setCustomUserClaims`` does it:
``POST /v1/projects/{project}/accounts:update`` with ``{"localId", "customAttributes"}``, the claims
as a JSON STRING ("{}" removes them all). That call replaces every custom claim of the account, so
the account is read first (``accounts:lookup``) and its other claims are written back unchanged;
only ``tenants`` is ours. Identity Toolkit has no conditional update: a writer of the OTHER claims
racing this read-merge-write can lose its change (this one is re-derived on the next membership event).

Budget: Firebase refuses custom claims over 1,000 bytes of JSON (CLAIMS_TOO_LARGE); ``fit_tenants``
keeps the longest prefix of the ranked tenants that fits beside the other claims. An unchanged
result writes nothing. A new claim reaches the client when its ID token is next refreshed (at most
an hour; the Firebase SDK's ``getIdToken(true)`` forces it).

Failures (network, 401/403, 429, 5xx, a refused update) raise ``errors.Unavailable``: the event is
retried, then dead-lettered. A deleted account is not a failure: it has no tokens left to carry a
claim, so nothing is written and None is returned.

Credentials as in ``firebase_revocation``: a callable returning an OAuth access token
(``google_credentials.access_token_provider()`` in production; the Auth emulator's ``owner``).
The service account needs ``firebaseauth.users.get`` and ``firebaseauth.users.update``
(roles/firebaseauth.admin: functions/manifest.yaml ``iam_roles``).
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from studio.kernel import errors
from studio.ports.claims import CLAIMS_BUDGET_BYTES, fit_tenants, serialized

PRODUCTION_ENDPOINT = "https://identitytoolkit.googleapis.com"
_GONE = ("USER_NOT_FOUND",)  # accounts:update on an account deleted since the lookup


class IdentityToolkitClaims:
    def __init__(self, project: str, *, endpoint: str = PRODUCTION_ENDPOINT,
                 credentials_provider: Callable[[], str] | None = None, timeout_s: float = 10,
                 budget: int = CLAIMS_BUDGET_BYTES) -> None:
        if not project:
            raise ValueError("a Firebase project id is required")
        if credentials_provider is None:
            raise ValueError("credentials_provider is required: pass "
                             "studio.adapters.google_credentials.access_token_provider() in production, "
                             "or use IdentityToolkitClaims.for_emulator")
        self.project = project
        self._base = f"{endpoint.rstrip('/')}/v1/projects/{project}"
        self._token = credentials_provider
        self._timeout_s = timeout_s
        self._budget = budget

    @classmethod
    def for_emulator(cls, project: str, host: str, **kwargs: Any) -> IdentityToolkitClaims:
        """``host`` as in FIREBASE_AUTH_EMULATOR_HOST (``127.0.0.1:9099``)."""
        return cls(project, endpoint=f"http://{host}/identitytoolkit.googleapis.com",
                   credentials_provider=lambda: "owner", **kwargs)

    # -- CustomClaims ------------------------------------------------------------------------

    def set_tenants(self, user_id: str, tenants: Mapping[str, str] | None) -> dict[str, str] | None:
        current = self.claims_of(user_id)
        if current is None:
            return None  # no such account (deleted): no token will carry a claim
        claims, kept = fit_tenants(current, tenants, self._budget)
        if claims != current:
            try:
                self._call("accounts:update", {"localId": user_id, "customAttributes": serialized(claims)})
            except _Refused as exc:
                if exc.reason in _GONE:
                    return None
                # Google's reason (e.g. CLAIMS_TOO_LARGE) reaches the log through the chain.
                raise errors.Unavailable("Identity Toolkit refused the custom claims update") from exc
        return kept

    def claims_of(self, user_id: str) -> dict[str, Any] | None:
        """The account's custom claims ({} when it has none), None when there is no such account."""
        try:
            doc = self._call("accounts:lookup", {"localId": [user_id]})
        except _Refused as exc:
            raise errors.Unavailable("Identity Toolkit refused the account lookup") from exc
        users = doc.get("users")
        if not users:  # lookup answers 200 without "users" for an unknown account
            return None
        user = users[0] if isinstance(users, list) else None
        if not isinstance(user, dict):
            raise errors.Unavailable("account lookup returned an unexpected body")
        raw = user.get("customAttributes") or "{}"
        try:
            claims = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            claims = None
        if not isinstance(claims, dict):
            # Firebase stores only JSON objects here; anything else is not ours to "repair" blindly.
            raise errors.Unavailable("account lookup returned malformed customAttributes")
        return claims

    # -- plumbing ----------------------------------------------------------------------------

    def _call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
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
                raise _Refused(reason) from None
            # 401/403 (our credential), 429 (quota), 5xx: none is a verdict on this user.
            raise errors.Unavailable(f"Identity Toolkit {method} failed (HTTP {exc.code})") from None
        except (OSError, ValueError) as exc:
            raise errors.Unavailable(f"Identity Toolkit {method} failed ({type(exc).__name__})") from None
        if not isinstance(doc, dict):
            raise errors.Unavailable(f"Identity Toolkit {method} returned an unexpected body")
        return doc


class _Refused(Exception):
    """A 400 from Identity Toolkit, with its reason (``USER_NOT_FOUND``, ``CLAIMS_TOO_LARGE`` ...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reason(body: bytes) -> str:
    """The reason of a Google error body, ``{"error": {"message": "USER_NOT_FOUND : ..."}}``."""
    try:
        message = json.loads(body)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return "HTTP 400"
    return str(message).split(" ", 1)[0] or "HTTP 400"
