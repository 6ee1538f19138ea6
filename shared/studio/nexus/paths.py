"""Where Nexus lives in the store (BLUEPRINT 4): one function per path."""
from __future__ import annotations

from studio.kernel.paths import tenant_collection


def raw_docs(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "nexus_raw")


def raw_doc(tenant_id: str, env: str, doc_id: str) -> str:
    return f"{raw_docs(tenant_id, env)}/{doc_id}"


def atoms(tenant_id: str, env: str, doc_id: str) -> str:
    """A document's atoms: one document holding every atom's offsets (replaced whole on re-ingest)."""
    return tenant_collection(tenant_id, env, f"nexus_atoms/{doc_id}")


def cards(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "nexus_cards")


def card(tenant_id: str, env: str, card_id: str) -> str:
    return f"{cards(tenant_id, env)}/{card_id}"


def index_state(tenant_id: str, env: str) -> str:
    """The index's generation (bumped by every card write) and which model fills which vector slot."""
    return tenant_collection(tenant_id, env, "nexus_meta/index")


def runtime_model(tenant_id: str, env: str) -> str:
    """The last runtime configuration (rev and embeddings choice) Nexus followed (runtime_model.py)."""
    return tenant_collection(tenant_id, env, "nexus_meta/runtime_config")


def settings(tenant_id: str, env: str, section: str) -> str:
    return tenant_collection(tenant_id, env, f"nexus_settings/{section}")


def runs(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "nexus_runs")


def run(tenant_id: str, env: str, run_id: str) -> str:
    return f"{runs(tenant_id, env)}/{run_id}"


def blackboards(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "blackboards")


def blackboard(tenant_id: str, env: str, key: str) -> str:
    return f"{blackboards(tenant_id, env)}/{key}"
