"""Mailer port: the platform's transactional mail (address verification, password reset,
invitations). Adapters are chosen in ``bootstrap``: the local outbox (files the console shows),
or none (production, where Firebase sends verification and reset mail and invitees find their
invitations in the app through ``GET /auth/invitations``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

MailKind = Literal["verify_email", "password_reset", "invitation"]


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    kind: MailKind
    # The one-time token or invitation id the text carries, machine-readable for the local
    # console; a real mail adapter sends only ``subject`` and ``text``.
    token: str | None = None


class Mailer(Protocol):
    def send(self, mail: Mail) -> None:
        """Hand the mail over for delivery. May raise; callers treat delivery as best effort
        (the state change it reports is committed first, and can be re-sent)."""
        ...
