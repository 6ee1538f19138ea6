"""API shapes of BYOK keys. A key goes in once and never comes back: outputs carry its last four
characters and a fingerprint only."""
from __future__ import annotations

from pydantic import ConfigDict, Field, SecretStr

from studio.byok.providers import KeyedProviderName
from studio.kernel.api_model import ApiModel
from studio.kernel.api_types import Revision


class KeyIn(ApiModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    # SecretStr: never in a repr, a log line or a validation message. Printable ASCII, no spaces:
    # what every provider's keys are made of.
    key: SecretStr = Field(min_length=16, max_length=512, description="The provider's API key (write-only)")
    base_rev: Revision | None = Field(default=None, description="Or If-Match; 0 to add, the current rev to rotate")


class KeyOut(ApiModel):
    provider: KeyedProviderName
    last4: str = Field(description="The key's last four characters")
    fingerprint: str = Field(description="sha256: and the first 16 hex digits of the key's SHA-256")
    version: int = Field(description="The secret version holding the key (rises at each rotation)")
    rev: int
    created_at: str
    rotated_at: str | None


class KeyList(ApiModel):
    keys: list[KeyOut]


def provider_param(value: str) -> str:
    """The {provider} path segment: a provider that takes a key, else 404 (no such key can exist)."""
    from studio.byok.providers import KEYED_PROVIDERS
    from studio.kernel import errors

    if value not in KEYED_PROVIDERS:
        raise errors.NotFound(f"no provider {value!r} takes a key (known: {', '.join(KEYED_PROVIDERS)})")
    return value
