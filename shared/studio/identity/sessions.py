"""Sessions and rotating refresh tokens.

A session is a refresh-token family. Each refresh consumes its token and issues the
next one; presenting a consumed token means it leaked, so the whole family is revoked.
Access tokens carry the session id, so logout and revocation end them at once.

Reuse grace: two tabs of one browser share the refresh token and may refresh at the same
moment. The loser of that race re-presents a token consumed a few milliseconds earlier, which
is not a leak. Within ``reuse_grace_s`` of its consumption a token therefore gets the SAME new
pair again (kept sealed under the consumed token's own secret: the store holds no usable
credential); after the grace, reuse revokes the family as before.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.identity import errors as identity_errors
from studio.identity.sealed import open_sealed, seal
from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.ports.store import Change, Document, DocumentStore, Filter, Query, Transaction, Watch, iter_all

# One short-lived document per ended session: what live streams listen to, so a logout ends them at
# once (a listener on ``sessions`` itself would read every session ever made each time it starts).
ENDED = "session_ends"
ENDED_KEEP_S = 24 * 3600
REVOKE_BATCH = 200  # sessions revoked per transaction (Firestore: at most 500 writes per commit)


@dataclass(frozen=True)
class Rotation:
    user_id: str
    session_id: str
    refresh_token: str
    access_token: str | None = None  # set by rotate(), which signs inside its transaction


# (transaction, user id, session id) -> a signed access token
AccessSigner = Callable[[Transaction, str, str], str]


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _parse(token: str) -> tuple[str, str]:
    rid, sep, secret = token.partition(".")
    if not sep or not rid.startswith("rt_") or not secret or len(rid) > 64:
        raise errors.StudioError(identity_errors.REFRESH_TOKEN_INVALID)
    return rid, secret


class SessionRepo:
    def __init__(self, store: DocumentStore, *, refresh_ttl_s: int, reuse_grace_s: float = 10.0,
                 clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._ttl = refresh_ttl_s
        self._grace = reuse_grace_s
        self._clock = clock

    def session_active(self, session_id: str) -> bool:
        doc = self._store.get(f"sessions/{session_id}")
        return doc is not None and not doc.data.get("revoked", False)

    def start(self, user_id: str, guard: Callable[[Transaction], None] | None = None) -> Rotation:
        """``guard`` runs in the same transaction and may refuse: a sign-in checks there that the
        password it verified is still the account's, so a concurrent reset cannot be outrun."""
        sid = "s_" + secrets.token_hex(12)

        def write(tx: Transaction) -> str:
            if guard is not None:
                guard(tx)
            tx.create(f"sessions/{sid}", {"user_id": user_id, "revoked": False, "created_at": utc_now()})
            return self._new_token(tx, user_id, sid)

        return Rotation(user_id, sid, self._store.run_transaction(write))

    def _new_token(self, tx: Transaction, user_id: str, sid: str) -> str:
        rid = "rt_" + secrets.token_hex(12)
        secret = secrets.token_urlsafe(32)
        tx.create(f"refresh_tokens/{rid}", {"session_id": sid, "user_id": user_id, "secret_hash": _hash(secret),
                                            "used": False, "expires_at": self._clock() + self._ttl})
        return f"{rid}.{secret}"

    def rotate(self, token: str, sign: AccessSigner) -> Rotation:
        rid, secret = _parse(token)

        def swap(tx: Transaction) -> Rotation | str:
            doc = tx.get(f"refresh_tokens/{rid}")
            if doc is None or not hmac.compare_digest(doc.data["secret_hash"], _hash(secret)):
                raise errors.StudioError(identity_errors.REFRESH_TOKEN_INVALID)
            data = doc.data
            session = tx.get(f"sessions/{data['session_id']}")
            if session is None or session.data.get("revoked"):
                raise errors.StudioError(identity_errors.REFRESH_TOKEN_INVALID, "session was revoked")
            now = self._clock()
            if data["used"]:
                again = self._within_grace(data, secret, rid, now)
                if again is not None:
                    return again
                _end(tx, session, "refresh token reuse")
                return "reused"  # commit the revocation, then refuse
            if data["expires_at"] < now:
                raise errors.StudioError(identity_errors.REFRESH_TOKEN_INVALID, "refresh token expired")
            user_id, sid = data["user_id"], data["session_id"]
            access = sign(tx, user_id, sid)  # reads (the user) before the first write: Firestore's rule
            pair = {"refresh_token": self._new_token(tx, user_id, sid), "access_token": access}
            successor = seal(secret, json.dumps(pair).encode(), rid.encode())
            tx.put(doc.path, dict(data, used=True, used_at=utc_now(), used_at_ts=now, successor=successor))
            return Rotation(user_id, sid, pair["refresh_token"], pair["access_token"])

        result = self._store.run_transaction(swap)
        if result == "reused":
            raise errors.StudioError(identity_errors.REFRESH_TOKEN_REUSED)
        assert isinstance(result, Rotation)
        return result

    def _within_grace(self, data: dict[str, Any], secret: str, rid: str, now: float) -> Rotation | None:
        box, used_at = data.get("successor"), data.get("used_at_ts")
        if not isinstance(box, str) or not isinstance(used_at, (int, float)) or now - used_at > self._grace:
            return None
        opened = open_sealed(secret, box, rid.encode())
        if opened is None:
            return None
        pair = json.loads(opened)
        return Rotation(data["user_id"], data["session_id"], pair["refresh_token"], pair["access_token"])

    def revoke(self, session_id: str, reason: str) -> None:
        def write(tx: Transaction) -> None:
            doc = tx.get(f"sessions/{session_id}")
            if doc is not None and not doc.data.get("revoked"):
                _end(tx, doc, reason)

        self._store.run_transaction(write)

    def revoke_all(self, user_id: str, reason: str, *, keep: str | None = None) -> int:
        """End every open session of the user but ``keep``; returns how many ended. Their access
        tokens fail from the next request, and open streams at once (``watch_ended``)."""
        query = Query("sessions", [Filter("user_id", "==", user_id), Filter("revoked", "==", False)],
                      limit=REVOKE_BATCH)
        paths = [d.path for d in iter_all(self._store, query) if d.doc_id != keep]

        def write(batch: list[str]) -> Callable[[Transaction], int]:
            def run(tx: Transaction) -> int:
                docs = [tx.get(p) for p in batch]  # every read before the first write (Firestore)
                ended = 0
                for doc in docs:
                    if doc is not None and not doc.data.get("revoked"):
                        _end(tx, doc, reason)
                        ended += 1
                return ended
            return run

        return sum(self._store.run_transaction(write(paths[i:i + REVOKE_BATCH]))
                   for i in range(0, len(paths), REVOKE_BATCH))

    def watch_ended(self, on_end: Callable[[str], None]) -> Watch:
        """Call ``on_end(session_id)`` (on the store's listener thread) for each session ending from now on."""
        def changed(change: Change) -> None:
            if change.op == "put":
                on_end(change.path.rsplit("/", 1)[-1])

        return self._store.watch(ENDED, changed)


def _end(tx: Transaction, session: Document, reason: str) -> None:
    """Revoke a session, and say so to whoever listens (every way a session ends goes through here)."""
    tx.put(session.path, dict(session.data, revoked=True, revoked_reason=reason))
    tx.put(f"{ENDED}/{session.doc_id}", {"user_id": session.data.get("user_id"), "reason": reason, "ended_at": utc_now(),
                                     "expire_at_ts": time.time() + ENDED_KEEP_S})
