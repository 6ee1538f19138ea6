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
from collections.abc import Callable, Mapping
from typing import Any

from studio.adapters.identity_toolkit import PRODUCTION_ENDPOINT, IdentityToolkit, Refused
from studio.kernel import errors
from studio.ports.claims import CLAIMS_BUDGET_BYTES, fit_tenants, serialized

_GONE = ("USER_NOT_FOUND",)  # accounts:update on an account deleted since the lookup


class IdentityToolkitClaims:
    def __init__(self, project: str, *, endpoint: str = PRODUCTION_ENDPOINT,
                 credentials_provider: Callable[[], str] | None = None, timeout_s: float = 10,
                 budget: int = CLAIMS_BUDGET_BYTES) -> None:
        self._toolkit = IdentityToolkit(project, endpoint=endpoint, credentials_provider=credentials_provider,
                                        timeout_s=timeout_s)
        self.project = project
        self._budget = budget

    @classmethod
    def for_emulator(cls, project: str, host: str, **kwargs: Any) -> IdentityToolkitClaims:
        """``host`` as in FIREBASE_AUTH_EMULATOR_HOST (``127.0.0.1:9099``)."""
        return cls(project, endpoint=IdentityToolkit.emulator_endpoint(host),
                   credentials_provider=lambda: "owner", **kwargs)

    # -- CustomClaims ------------------------------------------------------------------------

    def set_tenants(self, user_id: str, tenants: Mapping[str, str] | None) -> dict[str, str] | None:
        current = self.claims_of(user_id)
        if current is None:
            return None  # no such account (deleted): no token will carry a claim
        claims, kept = fit_tenants(current, tenants, self._budget)
        if claims != current:
            try:
                self._toolkit.call("accounts:update", {"localId": user_id, "customAttributes": serialized(claims)})
            except Refused as exc:
                if exc.reason in _GONE:
                    return None
                # Google's reason (e.g. CLAIMS_TOO_LARGE) reaches the log through the chain.
                raise errors.Unavailable("Identity Toolkit refused the custom claims update") from exc
        return kept

    def claims_of(self, user_id: str) -> dict[str, Any] | None:
        """The account's custom claims ({} when it has none), None when there is no such account."""
        user = self._toolkit.lookup(user_id)
        if user is None:
            return None
        raw = user.get("customAttributes") or "{}"
        try:
            claims = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            claims = None
        if not isinstance(claims, dict):
            # Firebase stores only JSON objects here; anything else is not ours to "repair" blindly.
            raise errors.Unavailable("account lookup returned malformed customAttributes")
        return claims
