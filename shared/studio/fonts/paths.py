"""Where the fonts domain keeps its documents and files (the media bucket role, named by content hash)."""
from studio.kernel.paths import tenant_collection

FONTS_BUCKET = "media"


def fonts(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "fonts")


def font(tenant_id: str, env: str, font_id: str) -> str:
    return f"{fonts(tenant_id, env)}/{font_id}"


def font_object(tenant_id: str, env: str, sha256: str, ext: str) -> str:
    return f"{tenant_id}/{env}/fonts/{sha256}.{ext}"


def site_key(tenant_id: str, env: str, key_id: str) -> str:
    """The tenant's listing of one CSS2 site key (its record, by digest, is the kernel's: kernel/site_keys.py)."""
    return f"{tenant_collection(tenant_id, env, 'font_site_keys')}/{key_id}"


def subset(tenant_id: str, env: str, key: str) -> str:
    return f"{tenant_collection(tenant_id, env, 'font_subsets')}/{key}"


def presets(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "font_presets")


def preset(tenant_id: str, env: str, preset_id: str) -> str:
    return f"{presets(tenant_id, env)}/{preset_id}"
