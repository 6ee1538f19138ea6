"""Where the privacy domain's documents live."""
from __future__ import annotations

from studio.kernel.paths import tenant_collection


def policy(tenant_id: str, env: str) -> str:
    """The tenant's one policy document for an env (reads as rev 0 until first written)."""
    return f"{tenant_collection(tenant_id, env, 'privacy')}/policy"
