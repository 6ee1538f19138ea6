"""resolve_model on the real SQLite store and the real encrypted secrets file: which setting decides (agent,
tenant default, deployment), the tenant's BYOK key only for the provider it belongs to, one
runtime_config.used event per resolution, and a ResolvedModel that unpacks but never prints its key."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.adapters.local_secrets import LocalSecretStore
from studio.adapters.sqlite_store import SqliteStore
from studio.byok.keys import ProviderKeys
from studio.kernel.context import Principal, RequestContext
from studio.kernel.roles import Role
from studio.runtime_config.configs import Choice, RuntimeConfigs

KEY = "sk-" + "resolveTest" + "Q1w2E3r4T5y6U7i8"


@pytest.fixture()
def world(tmp_path: Path) -> tuple[RuntimeConfigs, ProviderKeys, SqliteStore, RequestContext]:
    store = SqliteStore(tmp_path / "store.db")
    keys = ProviderKeys(store, LocalSecretStore(tmp_path / "secrets.json", key=b"k" * 32))
    ctx = RequestContext("t_resolve", "dev", Principal("u_admin"), Role.ADMIN)
    return RuntimeConfigs(store, keys, "openai"), keys, store, ctx


def _used(store: SqliteStore) -> list[dict[str, object]]:
    """The events waiting in the store's outbox (the relay would publish them): the usage events."""
    events = [json.loads(m.data) for m in store.outbox_pending(100)]
    return [e for e in events if e["type"] == "runtime_config.used"]


def test_which_setting_decides_and_the_byok_key(world: tuple[RuntimeConfigs, ProviderKeys, SqliteStore,
                                                             RequestContext]) -> None:
    configs, keys, store, ctx = world
    assert tuple(configs.resolve_model(ctx.tenant_id, "dev", "muse")) == ("openai", None, None)
    keys.put(ctx, "openai", KEY, 0)
    configs.put(ctx, {"muse": Choice("openai", "gpt-tenant")}, Choice("openai", "gpt-default"), None, 0)
    provider, model, api_key = configs.resolve_model(ctx.tenant_id, "dev", "muse")
    assert (provider, model, api_key) == ("openai", "gpt-tenant", KEY)
    other = configs.resolve_model(ctx.tenant_id, "dev", "critic")
    assert (other.model, other.source) == ("gpt-default", "tenant default")
    assert configs.resolve_model(ctx.tenant_id, "prod", "muse").source == "deployment"  # envs are separate
    assert KEY not in repr(other) and KEY not in str(configs.resolve_model(ctx.tenant_id, "dev", "muse"))
    used = _used(store)
    assert len(used) == 5 and all(KEY not in json.dumps(e) for e in used)
    assert used[1]["data"] == {"agent_id": "muse", "provider": "openai", "model": "gpt-tenant", "source": "agent",
                               "byok": True}


def test_a_key_for_another_provider_is_never_handed_out(world: tuple[RuntimeConfigs, ProviderKeys, SqliteStore,
                                                                     RequestContext]) -> None:
    _, keys, store, ctx = world
    keys.put(ctx, "gemini", KEY, 0)
    assert RuntimeConfigs(store, keys, "openai").resolve_model(ctx.tenant_id, "dev", "muse").api_key is None
    assert RuntimeConfigs(store, keys, "local").resolve_model(ctx.tenant_id, "dev", "muse").api_key is None
    assert RuntimeConfigs(store, keys, "gemini").resolve_model(ctx.tenant_id, "dev", "muse").api_key == KEY
