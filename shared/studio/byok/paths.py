"""Where BYOK key records live. A key belongs to the tenant (every env uses it), as its path says."""
from __future__ import annotations


def keys(tenant_id: str) -> str:
    return f"tenants/{tenant_id}/provider_keys"


def key(tenant_id: str, provider: str) -> str:
    return f"{keys(tenant_id)}/{provider}"


def secret_name(tenant_id: str, provider: str) -> str:
    """The key's name in the secrets port (Secret Manager on Google Cloud, the AES-GCM file locally)."""
    return f"byok_{tenant_id}_{provider}"
