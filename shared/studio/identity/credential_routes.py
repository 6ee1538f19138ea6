"""HTTP routes for proving an address and managing credentials: verification, password change,
password reset, and signing out everywhere. None stores its request for Idempotency-Key replay:
each body carries a password or a one-time token, and each is safe to retry as it is."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.identity.services import identity_services
from studio.kernel.call import Call
from studio.kernel.client_ip import request_client_ip
from studio.kernel.model_refs import models
from studio.kernel.routing import Router

if TYPE_CHECKING:
    from studio.identity import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.identity.models")

credentials = Router("auth")

RESET_ACCEPTED = {"status": "accepted",
                  "detail": "If an account uses that address, a reset code is on its way to it."}


def client_ip(call: Call) -> str:
    return request_client_ip(call.request, call.deps.settings.trusted_proxy_hops)


@credentials.public("POST", "/auth/verify", body=m.VerifyIn, response=m.VerificationOut, idempotent=False)
def verify(call: Call) -> Any:
    """Mark the address verified with the code mailed to it (a second use answers the same)."""
    return identity_services(call.deps).verification.verify(call.body.token)


@credentials.user("POST", "/auth/verify/resend", response=m.VerificationOut, status=202, idempotent=False)
def resend_verification(call: Call) -> Any:
    """Mail a new verification code (at most one a minute; none once verified)."""
    return identity_services(call.deps).verification.resend(call.need_principal())


@credentials.user("POST", "/auth/password", body=m.PasswordChangeIn, response=m.SessionsEnded, idempotent=False)
def change_password(call: Call) -> Any:
    """Change the password (the current one is required); every OTHER session ends."""
    b: m.PasswordChangeIn = call.body
    ended = identity_services(call.deps).credentials.change(call.need_principal(), b.current_password,
                                                            b.new_password, client_ip(call))
    return {"sessions_ended": ended}


@credentials.public("POST", "/auth/password/reset", body=m.ResetRequestIn, response=m.Accepted, status=202)
def request_password_reset(call: Call) -> Any:
    """Mail a reset code to the address; the answer is the same whether an account uses it or not."""
    identity_services(call.deps).credentials.request_reset(call.body.email)
    return RESET_ACCEPTED


@credentials.public("POST", "/auth/password/reset/confirm", body=m.ResetConfirmIn, response=m.SessionsEnded,
                    idempotent=False)
def confirm_password_reset(call: Call) -> Any:
    """Set a new password with a mailed reset code; EVERY session ends (sign in again)."""
    ended = identity_services(call.deps).credentials.confirm_reset(call.body.token, call.body.new_password)
    return {"sessions_ended": ended}


@credentials.user("POST", "/auth/logout-all", response=m.SessionsEnded, idempotent=False)
def logout_everywhere(call: Call) -> Any:
    """Sign out everywhere: every session of the caller ends, this one included, streams too."""
    return {"sessions_ended": identity_services(call.deps).accounts.logout_everywhere(call.need_principal())}
