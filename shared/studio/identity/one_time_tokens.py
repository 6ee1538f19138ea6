"""Single-use tokens mailed to an address: email verification and password reset.

A token is ``<prefix><id>.<secret>``; only the SHA-256 of the secret is stored, so a copy of the
store grants nothing. Each token names the user and the address key it was issued for, and is
consumed in the same transaction as the change it authorises.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.identity import errors as identity_errors
from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.ports.store import Document, Transaction


@dataclass(frozen=True)
class TokenKind:
    collection: str
    prefix: str
    ttl_s: float
    invalid: errors.ErrorCode


EMAIL_VERIFICATION = TokenKind("email_verifications", "ev_", 48 * 3600, identity_errors.VERIFICATION_TOKEN_INVALID)
PASSWORD_RESET = TokenKind("password_resets", "pr_", 3600, identity_errors.RESET_TOKEN_INVALID)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class OneTimeTokens:
    def __init__(self, kind: TokenKind, clock: Callable[[], float] = time.time) -> None:
        self.kind = kind
        self._clock = clock

    def issue(self, tx: Transaction, user_id: str, email_key: str) -> str:
        token_id = self.kind.prefix + secrets.token_hex(12)
        secret = secrets.token_urlsafe(32)
        now = self._clock()
        tx.create(f"{self.kind.collection}/{token_id}", {
            "user_id": user_id, "email_key": email_key, "secret_hash": _hash(secret), "used": False,
            "issued_at_ts": now, "expires_at": now + self.kind.ttl_s, "expire_at_ts": now + self.kind.ttl_s,
            "created_at": utc_now()})
        return f"{token_id}.{secret}"

    def find(self, get: Callable[[str], Document | None], token: str) -> Document:
        """The token's document if the token is genuine and unexpired (used or not); else the
        kind's 400. ``get`` is ``store.get`` or ``tx.get``."""
        token_id, sep, secret = token.partition(".")
        if not sep or not token_id.startswith(self.kind.prefix) or len(token_id) > 64 or not secret:
            raise errors.StudioError(self.kind.invalid)
        doc = get(f"{self.kind.collection}/{token_id}")
        if doc is None or not hmac.compare_digest(doc.data["secret_hash"], _hash(secret)):
            raise errors.StudioError(self.kind.invalid)
        if doc.data["expires_at"] < self._clock():
            raise errors.StudioError(self.kind.invalid, "the token has expired")
        return doc

    def consume(self, tx: Transaction, doc: Document) -> None:
        data: dict[str, Any] = dict(doc.data, used=True, used_at=utc_now())
        tx.put(doc.path, data, expected_rev=doc.rev)
