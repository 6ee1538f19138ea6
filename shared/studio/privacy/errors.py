"""The privacy domain's error codes: a refusal by the tenant's policy filter."""
from __future__ import annotations

from studio.kernel.errors import register

# 422: the request is well-formed, but its content is refused by the tenant's policy. The problem names
# the entity types (``entities``) and where they were found, never the matched text.
POLICY_BLOCKED = register("POLICY_BLOCKED", 422, "Content refused by the tenant's privacy policy")
