"""Sessions and rotating refresh tokens.

A session is a refresh-token family. Each refresh consumes its token and issues the
next one; presenting a consumed token means it leaked, so the whole family is revoked.
Access tokens carry the session id, so logout and revocation end them at once.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from studio.identity.errors import REFRESH_TOKEN_INVALID, REFRESH_TOKEN_REUSED
from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.ports.store import DocumentStore


@dataclass(frozen=True)
class Rotation:
    user_id: str
    session_id: str
    refresh_token: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _parse(token: str) -> tuple[str, str]:
    rid, sep, secret = token.partition(".")
    if not sep or not rid.startswith("rt_") or not secret or len(rid) > 64:
        raise errors.StudioError(REFRESH_TOKEN_INVALID)
    return rid, secret


class SessionRepo:
    def __init__(self, store: DocumentStore, *, refresh_ttl_s: int) -> None:
        self._store = store
        self._ttl = refresh_ttl_s

    def session_active(self, session_id: str) -> bool:
        doc = self._store.get(f"sessions/{session_id}")
        return doc is not None and not doc.data.get("revoked", False)

    def start(self, user_id: str) -> Rotation:
        sid = "s_" + secrets.token_hex(12)

        def write(tx: Any) -> str:
            tx.create(f"sessions/{sid}", {"user_id": user_id, "revoked": False, "created_at": utc_now()})
            return self._new_token(tx, user_id, sid)

        return Rotation(user_id, sid, self._store.run_transaction(write))

    def _new_token(self, tx: Any, user_id: str, sid: str) -> str:
        rid = "rt_" + secrets.token_hex(12)
        secret = secrets.token_urlsafe(32)
        tx.create(f"refresh_tokens/{rid}", {"session_id": sid, "user_id": user_id, "secret_hash": _hash(secret),
                                            "used": False, "expires_at": time.time() + self._ttl})
        return f"{rid}.{secret}"

    def rotate(self, token: str) -> Rotation:
        rid, secret = _parse(token)

        def swap(tx: Any) -> Rotation | str:
            doc = tx.get(f"refresh_tokens/{rid}")
            if doc is None or not hmac.compare_digest(doc.data["secret_hash"], _hash(secret)):
                raise errors.StudioError(REFRESH_TOKEN_INVALID)
            data = doc.data
            session = tx.get(f"sessions/{data['session_id']}")
            if session is None or session.data.get("revoked"):
                raise errors.StudioError(REFRESH_TOKEN_INVALID, "session was revoked")
            if data["used"]:
                tx.put(session.path, dict(session.data, revoked=True, revoked_reason="refresh token reuse"))
                return "reused"  # commit the revocation, then refuse
            if data["expires_at"] < time.time():
                raise errors.StudioError(REFRESH_TOKEN_INVALID, "refresh token expired")
            tx.put(doc.path, dict(data, used=True, used_at=utc_now()))
            return Rotation(data["user_id"], data["session_id"], self._new_token(tx, data["user_id"],
                                                                                  data["session_id"]))

        result = self._store.run_transaction(swap)
        if result == "reused":
            raise errors.StudioError(REFRESH_TOKEN_REUSED)
        assert isinstance(result, Rotation)
        return result

    def revoke(self, session_id: str, reason: str) -> None:
        def write(tx: Any) -> None:
            doc = tx.get(f"sessions/{session_id}")
            if doc is not None and not doc.data.get("revoked"):
                tx.put(doc.path, dict(doc.data, revoked=True, revoked_reason=reason))

        self._store.run_transaction(write)
