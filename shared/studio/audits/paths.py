"""Where the audits domain keeps its documents."""
from studio.kernel.paths import tenant_collection


def audits(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "audits")


def audit(tenant_id: str, env: str, audit_id: str) -> str:
    return f"{audits(tenant_id, env)}/{audit_id}"


def screenshot(tenant_id: str, env: str, audit_id: str, width: int) -> str:
    return f"{tenant_collection(tenant_id, env, 'audit_screenshots')}/{audit_id}-{width}"


def eaa_site(tenant_id: str, env: str, site_id: str) -> str:
    return f"{tenant_collection(tenant_id, env, 'eaa_sites')}/{site_id}"
