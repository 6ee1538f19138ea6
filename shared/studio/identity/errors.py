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
