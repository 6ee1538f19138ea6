"""The mails the identity domain sends, and how: after the state change has committed, best
effort (a failed hand-over is logged, never turned into an error for a change that happened;
verification can be re-sent and a reset re-requested)."""
from __future__ import annotations

from studio.kernel import logs
from studio.ports.mailer import Mail, Mailer

_log = logs.get("studio.identity.mail")


def send_quietly(mailer: Mailer, mail: Mail) -> None:
    try:
        mailer.send(mail)
    except Exception:  # noqa: BLE001 - delivery is best effort; the committed change stands
        _log.exception("mail hand-over failed", extra={"fields": {"kind": mail.kind}})


def verification_mail(address: str, token: str) -> Mail:
    return Mail(address, "Verify your email address",
                "Confirm that this address is yours to finish setting up your Studio account.\n\n"
                f"Verification code: {token}\n\n(POST /auth/verify with {{\"token\": \"<code>\"}}.) "
                "It expires in 48 hours. If you did not sign up, ignore this mail.",
                "verify_email", token)


def reset_mail(address: str, token: str) -> Mail:
    return Mail(address, "Reset your password",
                "Someone asked to reset the password of the Studio account for this address.\n\n"
                f"Reset code: {token}\n\n(POST /auth/password/reset/confirm with the code and a new "
                "password.) It expires in 1 hour and signs out every session. If it was not you, "
                "ignore this mail: your password stays as it is.",
                "password_reset", token)


def invitation_mail(address: str, tenant_name: str, role: str, invitation_id: str) -> Mail:
    tenant_name = " ".join(tenant_name.split())  # a tenant's name is caller input: no line breaks in a subject
    return Mail(address, f"You are invited to {tenant_name}",
                f"You are invited to join {tenant_name} as {role}.\n\nSign in with this address (verify it "
                f"first), then accept invitation {invitation_id} (POST /auth/invitations/{invitation_id}/accept). "
                "It expires in 7 days.",
                "invitation", invitation_id)
