"""The model providers the platform knows, and which of them take an API key (BYOK)."""
from __future__ import annotations

from typing import Literal

# The names Settings.llm uses (studio.config): each is an adapter the bootstrap can build.
ProviderName = Literal["echo", "local", "openai", "gemini"]
KNOWN_PROVIDERS: tuple[str, ...] = ("echo", "local", "openai", "gemini")
# Hosted providers, called with a key; "local" and "echo" run in process and take none.
KEYED_PROVIDERS: tuple[str, ...] = ("openai", "gemini")
KeyedProviderName = Literal["openai", "gemini"]
