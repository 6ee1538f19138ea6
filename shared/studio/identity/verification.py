"""Email verification: a token mailed at sign-up (and on request) proves the address.

Built-in accounts carry ``email_verified`` on ``users/{id}``; Firebase ID tokens carry the
``email_verified`` claim, which Firebase sets once the user followed its own verification mail.
``verified_email`` is the one place that answers "which address has this caller proven?",
and invitations bind to nothing else.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from studio.identity import emails, mails
from studio.identity import errors as identity_errors
from studio.identity.one_time_tokens import EMAIL_VERIFICATION, OneTimeTokens
from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.context import Principal
from studio.kernel.events import DomainEvent, emit
from studio.ports.mailer import Mail, Mailer
from studio.ports.store import DocumentStore, Transaction

RESEND_AFTER_S = 60  # one verification mail a minute per account, however often it is asked for


def verified_email(store: DocumentStore, principal: Principal) -> str | None:
    if principal.issuer == "firebase":
        claimed = principal.claims.get("email")
        if principal.claims.get("email_verified") is not True or not isinstance(claimed, str):
            return None
        try:
            return emails.normalise(claimed)
        except errors.StudioError:
            return None  # Firebase verified a mailbox we would not accept as an identity
    user = store.get(f"users/{principal.user_id}")
    if user is None or user.data.get("email_verified") is not True:
        return None
    return str(user.data["email"])


class EmailVerification:
    def __init__(self, store: DocumentStore, mailer: Mailer, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._mailer = mailer
        self._tokens = OneTimeTokens(EMAIL_VERIFICATION, clock)
        self._clock = clock

    def issue_in(self, tx: Transaction, user_id: str, address: str) -> Mail:
        """Create a token inside the caller's transaction; send the returned mail after commit."""
        return mails.verification_mail(address, self._tokens.issue(tx, user_id, emails.email_key(address)))

    def resend(self, principal: Principal) -> dict[str, Any]:
        now = self._clock()

        def write(tx: Transaction) -> tuple[dict[str, Any], Mail | None]:
            user = tx.get(f"users/{principal.user_id}")
            if user is None:
                raise errors.StudioError(identity_errors.ACCOUNT_NOT_LOCAL, "this account is verified by its identity provider")
            view = _view(user.data)
            if user.data.get("email_verified") or now - float(user.data.get("verification_sent_at_ts", 0)) < RESEND_AFTER_S:
                return view, None
            tx.put(user.path, dict(user.data, verification_sent_at_ts=now), expected_rev=user.rev)
            return view, self.issue_in(tx, principal.user_id, user.data["email"])

        view, mail = self._store.run_transaction(write)
        if mail is not None:
            mails.send_quietly(self._mailer, mail)
        return view

    def verify(self, token: str) -> dict[str, Any]:
        def write(tx: Transaction) -> dict[str, Any]:
            doc = self._tokens.find(tx.get, token)
            user = tx.get(f"users/{doc.data['user_id']}")
            if user is None or emails.email_key(user.data["email"]) != doc.data["email_key"]:
                raise errors.StudioError(identity_errors.VERIFICATION_TOKEN_INVALID, "the token names another address")
            if user.data.get("email_verified"):
                return _view(user.data)  # verified already: a second click is not an error
            if doc.data["used"]:
                raise errors.StudioError(identity_errors.VERIFICATION_TOKEN_INVALID, "the token was used")
            self._tokens.consume(tx, doc)
            new = tx.put(user.path, dict(user.data, email_verified=True, verified_at=utc_now()), expected_rev=user.rev)
            emit(tx, DomainEvent("user.email_verified", "", "", user.path, {"user_id": user.data["user_id"]}))
            return _view(new.data)

        return self._store.run_transaction(write)


def _view(user: dict[str, Any]) -> dict[str, Any]:
    return {"user_id": user["user_id"], "email": user["email"], "email_verified": user.get("email_verified") is True}
