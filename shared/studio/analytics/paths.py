"""Where the analytics domain's documents live (BLUEPRINT 4)."""
from __future__ import annotations

from studio.kernel.paths import tenant_collection


def sites(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "analytics_sites")


def site(tenant_id: str, env: str, site_id: str) -> str:
    return f"{sites(tenant_id, env)}/{site_id}"


def site_keys(tenant_id: str, env: str, site_id: str) -> str:
    return f"{site(tenant_id, env, site_id)}/keys"


def site_key(tenant_id: str, env: str, site_id: str, key_id: str) -> str:
    return f"{site_keys(tenant_id, env, site_id)}/{key_id}"


def signals(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "signals")


def signal(tenant_id: str, env: str, signal_id: str) -> str:
    return f"{signals(tenant_id, env)}/{signal_id}"


def subjects(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "signal_subjects")


def subject(tenant_id: str, env: str, subject_id: str) -> str:
    return f"{subjects(tenant_id, env)}/{subject_id}"


def rules(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "personalization_rules")


def rule(tenant_id: str, env: str, rule_id: str) -> str:
    return f"{rules(tenant_id, env)}/{rule_id}"


def seo_pages(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "seo_pages")


def seo_page(tenant_id: str, env: str, surface: str, page_type: str) -> str:
    return f"{seo_pages(tenant_id, env)}/{surface}~{page_type}"
