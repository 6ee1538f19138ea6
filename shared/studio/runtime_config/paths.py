"""Where the runtime configuration lives: one document per tenant and env."""
from __future__ import annotations

from studio.kernel.paths import tenant_collection


def selecta(tenant_id: str, env: str) -> str:
    """The audit's name for it (runtime_config/selecta), kept so the two can be compared."""
    return f"{tenant_collection(tenant_id, env, 'runtime_config')}/selecta"
