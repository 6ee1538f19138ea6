"""Identity's own error codes: accounts, sessions and memberships.

Registered with the kernel's one registry (a code may not mean two things), listed by
``studio.domains`` for OpenAPI and docs/errors.md. The values and statuses are a contract with
clients: never change one, add a new code instead. Auth failures every function shares
(UNAUTHENTICATED, TOKEN_INVALID, NOT_A_MEMBER ...) are the kernel's.
"""
from __future__ import annotations

from studio.kernel.errors import register

INVALID_CREDENTIALS = register("INVALID_CREDENTIALS", 401, "Email or password is wrong")
REFRESH_TOKEN_INVALID = register("REFRESH_TOKEN_INVALID", 401, "Refresh token is invalid, expired or revoked")
REFRESH_TOKEN_REUSED = register("REFRESH_TOKEN_REUSED", 401, "Refresh token was already used; its session is revoked")
EMAIL_TAKEN = register("EMAIL_TAKEN", 409, "Email is already registered")
LAST_OWNER = register("LAST_OWNER", 409, "A tenant must keep at least one owner")
WEAK_PASSWORD = register("WEAK_PASSWORD", 422, "Password does not meet the policy")

# Verification, invitations, passwords and sign-in throttling (decisions 0022, 0023).
EMAIL_UNSAFE = register("EMAIL_UNSAFE", 422,
                        "Email has invisible, combining, compatibility-form, mixed-script or lookalike characters")
EMAIL_NOT_VERIFIED = register("EMAIL_NOT_VERIFIED", 403, "The account's email address is not verified")
VERIFICATION_TOKEN_INVALID = register("VERIFICATION_TOKEN_INVALID", 400,
                                      "Verification token is invalid, expired or superseded")
RESET_TOKEN_INVALID = register("RESET_TOKEN_INVALID", 400, "Password reset token is invalid, used or expired")
CURRENT_PASSWORD_INCORRECT = register("CURRENT_PASSWORD_INCORRECT", 403, "The current password is wrong")
ACCOUNT_NOT_LOCAL = register("ACCOUNT_NOT_LOCAL", 409,
                             "This account's credentials are managed by the identity provider, not here")
INVITATION_NOT_PENDING = register("INVITATION_NOT_PENDING", 409,
                                  "Invitation was accepted, revoked or has expired, or its inviter lost the rank")
LOGIN_THROTTLED = register("LOGIN_THROTTLED", 429, "Too many failed sign-in attempts; retry later")
