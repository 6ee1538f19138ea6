"""OAuth access tokens from google-auth application default credentials.

For the few Google REST calls made without a client library (Identity Toolkit's accounts:lookup in
studio.adapters.firebase_revocation). The bootstrap passes ``access_token_provider()`` to that adapter as
a plain callable, so the revocation check can run against the Auth emulator without google-auth.
google-auth is imported on the first call, not at import time, to keep it off cold starts that never
need it. Credentials are cached and refreshed only when google-auth says the token is (nearly) expired.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from studio.kernel import errors

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


def access_token_provider(scopes: Sequence[str] = (CLOUD_PLATFORM,)) -> Callable[[], str]:
    lock = threading.Lock()
    cached: list[Any] = []  # the credentials object, once resolved

    def token() -> str:
        import google.auth
        import google.auth.exceptions
        import google.auth.transport.requests

        # One refresh at a time: concurrent callers would otherwise all hit the token endpoint.
        with lock:
            try:
                if not cached:
                    credentials, _ = google.auth.default(scopes=list(scopes))
                    cached.append(credentials)
                credentials = cached[0]
                if not credentials.valid:
                    credentials.refresh(google.auth.transport.requests.Request())
            except google.auth.exceptions.GoogleAuthError as exc:
                # Missing or unusable credentials are an outage of this service, not the caller's fault.
                raise errors.Unavailable(f"no Google credentials ({type(exc).__name__})") from None
            return str(credentials.token)

    return token
