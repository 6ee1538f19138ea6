"""Sign-up, login, refresh, logout and ``/auth/me`` for the built-in issuer."""
from __future__ import annotations

import hashlib
import secrets
from typing import Any

from studio.identity import passwords
from studio.identity.local_tokens import LocalTokenIssuer
from studio.identity.memberships import MembershipRepo
from studio.identity.sessions import SessionRepo
from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.context import Principal
from studio.kernel.events import DomainEvent, emit
from studio.ports.store import DocumentStore


def _email_key(email: str) -> str:
    return "user_emails/" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


class AccountService:
    def __init__(self, store: DocumentStore, sessions: SessionRepo, issuer: LocalTokenIssuer,
                 memberships: MembershipRepo) -> None:
        self._store = store
        self._sessions = sessions
        self._issuer = issuer
        self._memberships = memberships

    def signup(self, email: str, password: str, display_name: str | None) -> dict[str, str]:
        email = email.strip().lower()
        passwords.check_policy(password, email)
        if self._store.get(_email_key(email)) is not None:  # cheap check before the slow hash
            raise errors.StudioError(errors.EMAIL_TAKEN)
        hashed = passwords.hash_password(password)

        def write(tx: Any) -> str:
            user_id = "u_" + secrets.token_hex(10)  # minted with the write: a keyed retry replays it (0020)
            if tx.get(_email_key(email)) is not None:
                raise errors.StudioError(errors.EMAIL_TAKEN)
            tx.create(_email_key(email), {"user_id": user_id})
            tx.create(f"users/{user_id}", {"user_id": user_id, "email": email, "display_name": display_name,
                                           "password_hash": hashed, "created_at": utc_now()})
            emit(tx, DomainEvent("user.signed_up", "", "", f"users/{user_id}", {"user_id": user_id}))
            return user_id

        return {"user_id": str(self._store.run_transaction(write)), "email": email}

    def login(self, email: str, password: str) -> dict[str, Any]:
        index = self._store.get(_email_key(email))
        user = self._store.get(f"users/{index.data['user_id']}") if index else None
        if user is None:
            passwords.burn_time(password)
            raise errors.StudioError(errors.INVALID_CREDENTIALS)
        if not passwords.verify_password(user.data["password_hash"], password):
            raise errors.StudioError(errors.INVALID_CREDENTIALS)
        rotation = self._sessions.start(user.data["user_id"])
        return self._tokens(user.data["user_id"], user.data["email"], rotation.session_id, rotation.refresh_token)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        rotation = self._sessions.rotate(refresh_token)
        user = self._store.get(f"users/{rotation.user_id}")
        email = user.data.get("email") if user else None
        return self._tokens(rotation.user_id, email, rotation.session_id, rotation.refresh_token)

    def logout(self, principal: Principal) -> None:
        if principal.session_id:
            self._sessions.revoke(principal.session_id, "logout")

    def me(self, principal: Principal) -> dict[str, Any]:
        user = self._store.get(f"users/{principal.user_id}")
        return {
            "user_id": principal.user_id,
            "email": (user.data.get("email") if user else None) or principal.email,
            "display_name": user.data.get("display_name") if user else None,
            "memberships": self._memberships.of_user(principal.user_id),
        }

    def user_id_for_email(self, email: str) -> str | None:
        index = self._store.get(_email_key(email))
        return index.data["user_id"] if index else None

    def _tokens(self, user_id: str, email: str | None, session_id: str, refresh_token: str) -> dict[str, Any]:
        access = self._issuer.issue(user_id, email, session_id)
        return {"access_token": access, "refresh_token": refresh_token, "token_type": "Bearer",
                "expires_in": self._issuer.ttl_s}
