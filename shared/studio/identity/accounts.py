"""Sign-up, login, refresh, logout (one session or all) and ``/auth/me`` for the built-in issuer."""
from __future__ import annotations

import secrets
import time
from typing import Any

from studio.identity import emails, mails, passwords
from studio.identity import errors as identity_errors
from studio.identity.local_tokens import LocalTokenIssuer
from studio.identity.login_throttle import LoginThrottle
from studio.identity.memberships import MembershipRepo
from studio.identity.sessions import SessionRepo
from studio.identity.verification import EmailVerification, verified_email
from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.context import Principal
from studio.kernel.events import DomainEvent, emit
from studio.ports.mailer import Mail, Mailer
from studio.ports.store import Document, DocumentStore, Transaction


def email_index_path(key: str) -> str:
    return "user_emails/" + key


class AccountService:
    def __init__(self, store: DocumentStore, sessions: SessionRepo, issuer: LocalTokenIssuer,
                 memberships: MembershipRepo, verification: EmailVerification, throttle: LoginThrottle,
                 mailer: Mailer) -> None:
        self._store = store
        self._sessions = sessions
        self._issuer = issuer
        self._memberships = memberships
        self._verification = verification
        self._throttle = throttle
        self._mailer = mailer

    def signup(self, email: str, password: str, display_name: str | None) -> dict[str, Any]:
        address = emails.normalise(email)
        key = emails.email_key(address)
        passwords.check_policy(password, address)
        if self._store.get(email_index_path(key)) is not None:  # cheap check before the slow hash
            raise errors.StudioError(identity_errors.EMAIL_TAKEN)
        hashed = passwords.hash_password(password)

        def write(tx: Transaction) -> tuple[str, Mail]:
            user_id = "u_" + secrets.token_hex(10)  # minted with the write: a keyed retry replays it (0020)
            if tx.get(email_index_path(key)) is not None:
                raise errors.StudioError(identity_errors.EMAIL_TAKEN)
            tx.create(email_index_path(key), {"user_id": user_id})
            tx.create(f"users/{user_id}", {"user_id": user_id, "email": address, "display_name": display_name,
                                           "password_hash": hashed, "created_at": utc_now(),
                                           "email_verified": False, "verification_sent_at_ts": time.time()})
            emit(tx, DomainEvent("user.signed_up", "", "", f"users/{user_id}", {"user_id": user_id}))
            return user_id, self._verification.issue_in(tx, user_id, address)

        user_id, mail = self._store.run_transaction(write)
        mails.send_quietly(self._mailer, mail)
        return {"user_id": user_id, "email": address, "email_verified": False}

    def login(self, email: str, password: str, client_ip: str) -> dict[str, Any]:
        try:
            address: str | None = emails.normalise(email)
        except errors.StudioError:
            address = None  # no account can have it; still counted, still as slow as a wrong password
        key = emails.email_key(address or email.strip().lower())
        self._throttle.check(key, client_ip)  # before the slow hash: a locked key costs a read
        user = self._user_by_key(key) if address else None
        if user is None:
            passwords.burn_time(password)
        if user is None or not passwords.verify_password(user.data["password_hash"], password):
            self._throttle.failed(key, client_ip)
            raise errors.StudioError(identity_errors.INVALID_CREDENTIALS)
        self._throttle.succeeded(key)
        verified_hash = user.data["password_hash"]

        def same_password(tx: Transaction) -> None:
            current = tx.get(user.path)
            if current is None or current.data.get("password_hash") != verified_hash:
                raise errors.StudioError(identity_errors.INVALID_CREDENTIALS)  # changed or reset meanwhile

        rotation = self._sessions.start(user.data["user_id"], guard=same_password)
        access = self._issuer.issue(user.data["user_id"], user.data["email"], rotation.session_id)
        return self._tokens(access, rotation.refresh_token)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        key = self._issuer.signing_key()

        def sign(tx: Transaction, user_id: str, session_id: str) -> str:
            user = tx.get(f"users/{user_id}")
            email = user.data.get("email") if user else None
            return self._issuer.sign_with(key, user_id, email, session_id)

        rotation = self._sessions.rotate(refresh_token, sign)
        assert rotation.access_token is not None
        return self._tokens(rotation.access_token, rotation.refresh_token)

    def logout(self, principal: Principal) -> None:
        if principal.session_id:
            self._sessions.revoke(principal.session_id, "logout")

    def logout_everywhere(self, principal: Principal) -> int:
        """End every session of the caller, this one included; returns how many ended."""
        if principal.issuer != "local":
            raise errors.StudioError(identity_errors.ACCOUNT_NOT_LOCAL, "revoke Firebase sessions through Firebase")
        ended = self._sessions.revoke_all(principal.user_id, "signed out everywhere")
        self._store.run_transaction(lambda tx: emit(tx, DomainEvent(
            "user.signed_out_everywhere", "", "", f"users/{principal.user_id}",
            {"user_id": principal.user_id, "sessions_ended": ended})))
        return ended

    def me(self, principal: Principal) -> dict[str, Any]:
        user = self._store.get(f"users/{principal.user_id}")
        return {
            "user_id": principal.user_id,
            "email": (user.data.get("email") if user else None) or principal.email,
            "email_verified": verified_email(self._store, principal) is not None,
            "display_name": user.data.get("display_name") if user else None,
            "memberships": self._memberships.of_user(principal.user_id),
        }

    def _user_by_key(self, key: str) -> Document | None:
        index = self._store.get(email_index_path(key))
        return self._store.get(f"users/{index.data['user_id']}") if index else None

    def _tokens(self, access_token: str, refresh_token: str) -> dict[str, Any]:
        return {"access_token": access_token, "refresh_token": refresh_token, "token_type": "Bearer",
                "expires_in": self._issuer.ttl_s}
