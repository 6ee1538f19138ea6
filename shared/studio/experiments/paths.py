"""Where experiments and flags live in the store (BLUEPRINT 4)."""
from __future__ import annotations

import hashlib

from studio.kernel.paths import tenant_collection


def experiments(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "experiments")


def experiment(tenant_id: str, env: str, experiment_id: str) -> str:
    return f"{experiments(tenant_id, env)}/{experiment_id}"


def experiment_key(tenant_id: str, env: str, key: str) -> str:
    """The key's claim: created with the experiment in one commit, so two experiments never share a key."""
    return tenant_collection(tenant_id, env, f"experiment_keys/{key}")


def subject_token(hash_attribute: str, hash_value: str) -> str:
    """A path-safe, fixed-length id for a subject (its hash attribute's value may be any unicode)."""
    return hashlib.sha256(f"{hash_attribute}\x00{hash_value}".encode("utf-8", "surrogatepass")).hexdigest()[:40]


def assignment(tenant_id: str, env: str, experiment_id: str, subject: str) -> str:
    """A subject's sticky assignment: created once, never moved by a later weight change."""
    return f"{experiment(tenant_id, env, experiment_id)}/assignments/{subject}"


def exposure(tenant_id: str, env: str, experiment_id: str, subject: str, variation: int) -> str:
    """One exposure per subject, experiment and variation: its creation is the deduplication."""
    return f"{experiment(tenant_id, env, experiment_id)}/exposures/{subject}_{variation}"


def flags(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "flags")


def flag(tenant_id: str, env: str, key: str) -> str:
    return f"{flags(tenant_id, env)}/{key}"


def sdk_keys(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "sdk_keys")


def sdk_key(tenant_id: str, env: str, key_id: str) -> str:
    return f"{sdk_keys(tenant_id, env)}/{key_id}"
