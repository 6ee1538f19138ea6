"""The realtime gateway's own error codes (its refusals before a stream opens).

Registered with the kernel's one registry, listed by ``studio.domains``; the shared auth codes
(TOKEN_INVALID, NOT_A_MEMBER ...) are the kernel's.
"""
from __future__ import annotations

from studio.kernel.errors import register

TOO_MANY_STREAMS = register("TOO_MANY_STREAMS", 429, "Too many open streams for this user")
