"""Password change (needs the current password) and password reset (a mailed single-use token).

Either ends sessions: a change ends every session but the caller's, a reset ends them all (the
person resetting may be the owner locking out whoever knew the old password). The new password
is written first and the sessions revoked after; a sign-in that verified the old password just
before is refused when it tries to open its session (``AccountService.login``'s guard), so no
session outlives the change.

A reset request never says whether the address has an account (the same 202 either way; note
that sign-up's EMAIL_TAKEN does tell, as on most sites). Completing a reset proves the mailbox,
so it also marks the address verified: the owner of an address that a squatter registered first
takes the account over this way, and the squatter's sessions end.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from studio.identity import emails, mails, passwords
from studio.identity import errors as identity_errors
from studio.identity.accounts import email_index_path
from studio.identity.login_throttle import LoginThrottle
from studio.identity.one_time_tokens import PASSWORD_RESET, OneTimeTokens
from studio.identity.sessions import SessionRepo
from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.context import Principal
from studio.kernel.events import DomainEvent, emit
from studio.ports.mailer import Mail, Mailer
from studio.ports.store import DocumentStore, Transaction

RESET_MAIL_EVERY_S = 60  # at most one reset mail a minute per account: no mail bombing


class CredentialService:
    def __init__(self, store: DocumentStore, sessions: SessionRepo, throttle: LoginThrottle, mailer: Mailer,
                 clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._sessions = sessions
        self._throttle = throttle
        self._mailer = mailer
        self._tokens = OneTimeTokens(PASSWORD_RESET, clock)
        self._clock = clock

    def change(self, principal: Principal, current: str, new: str, client_ip: str) -> int:
        """Returns how many other sessions ended."""
        user = self._store.get(f"users/{principal.user_id}")
        if principal.issuer != "local" or user is None or "password_hash" not in user.data:
            raise errors.StudioError(identity_errors.ACCOUNT_NOT_LOCAL, "change the password through Firebase")
        key = emails.email_key(user.data["email"])
        self._throttle.check(key, client_ip)  # a stolen access token must not become a password oracle
        if not passwords.verify_password(user.data["password_hash"], current):
            self._throttle.failed(key, client_ip)
            raise errors.StudioError(identity_errors.CURRENT_PASSWORD_INCORRECT)
        passwords.check_policy(new, user.data["email"])
        hashed = passwords.hash_password(new)
        now = self._clock()

        def write(tx: Transaction) -> None:
            doc = tx.get(user.path)
            if doc is None or doc.data.get("password_hash") != user.data["password_hash"]:
                raise errors.StudioError(identity_errors.CURRENT_PASSWORD_INCORRECT, "the password changed meanwhile")
            tx.put(doc.path, dict(doc.data, password_hash=hashed, password_changed_at_ts=now), expected_rev=doc.rev)
            emit(tx, DomainEvent("user.password_changed", "", "", doc.path, {"user_id": principal.user_id}))

        self._store.run_transaction(write)
        return self._sessions.revoke_all(principal.user_id, "password changed", keep=principal.session_id)

    def request_reset(self, email: str) -> None:
        address = emails.normalise(email)
        key = emails.email_key(address)
        index = self._store.get(email_index_path(key))
        if index is None:
            return  # the caller hears the same as for a real account
        now = self._clock()

        def write(tx: Transaction) -> Mail | None:
            user = tx.get(f"users/{index.data['user_id']}")
            if user is None or now - float(user.data.get("reset_sent_at_ts", 0)) < RESET_MAIL_EVERY_S:
                return None
            tx.put(user.path, dict(user.data, reset_sent_at_ts=now), expected_rev=user.rev)
            return mails.reset_mail(user.data["email"], self._tokens.issue(tx, user.data["user_id"], key))

        mail = self._store.run_transaction(write)
        if mail is not None:
            mails.send_quietly(self._mailer, mail)

    def confirm_reset(self, token: str, new: str) -> int:
        """Set the new password; returns how many sessions ended (all of them)."""
        first = self._tokens.find(self._store.get, token)
        user = self._store.get(f"users/{first.data['user_id']}")
        if user is None:
            raise errors.StudioError(identity_errors.RESET_TOKEN_INVALID)
        passwords.check_policy(new, user.data["email"])
        hashed = passwords.hash_password(new)
        now = self._clock()

        def write(tx: Transaction) -> str:
            doc = self._tokens.find(tx.get, token)
            account = tx.get(f"users/{doc.data['user_id']}")
            if doc.data["used"] or account is None:
                raise errors.StudioError(identity_errors.RESET_TOKEN_INVALID, "the token was used")
            if emails.email_key(account.data["email"]) != doc.data["email_key"]:
                raise errors.StudioError(identity_errors.RESET_TOKEN_INVALID, "the token names another address")
            if doc.data["issued_at_ts"] < float(account.data.get("password_changed_at_ts", 0)):
                raise errors.StudioError(identity_errors.RESET_TOKEN_INVALID, "the password changed after this token was sent")
            self._tokens.consume(tx, doc)
            changes: dict[str, Any] = {"password_hash": hashed, "password_changed_at_ts": now}
            if not account.data.get("email_verified"):
                changes.update(email_verified=True, verified_at=utc_now())  # the mailbox is proven
            tx.put(account.path, {**account.data, **changes}, expected_rev=account.rev)
            emit(tx, DomainEvent("user.password_reset", "", "", account.path, {"user_id": account.data["user_id"]}))
            return str(doc.data["email_key"])

        key = self._store.run_transaction(write)
        self._throttle.succeeded(key)  # the owner is back: lift a lock a guesser caused
        return self._sessions.revoke_all(first.data["user_id"], "password reset")
