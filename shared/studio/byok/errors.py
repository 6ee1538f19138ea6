"""BYOK's own error codes."""
from __future__ import annotations

from studio.kernel.errors import register

KEY_MALFORMED = register("KEY_MALFORMED", 400, "An API key is printable ASCII without spaces")
