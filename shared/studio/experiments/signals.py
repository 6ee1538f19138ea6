"""Analytics' signals, read for targeting and as a results metric (CAPABILITIES D13: targeting on signals).

A condition may name ``signals.<name>`` (``{"signals.purchases_30d": {"$gte": 2}}``): the subject's
signal values are read once per evaluation, only when a condition names them, and set as the
``signals`` attribute (the caller's own ``signals`` attribute is replaced: the platform's values win).
The subject is the context's ``user_id``, else ``anonymous_id``, else its ``id`` (``targetingKey``).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from studio.analytics.signals import SignalService

SignalReader = Callable[[str, str, str], dict[str, Any]]  # (tenant, env, subject) -> {name: value}
ATTRIBUTE = "signals"


def reader(service: SignalService) -> SignalReader:
    """Reads through analytics' SignalService itself (not its whole services bundle, whose ingest needs the
    privacy filter's dependencies this function does not ship)."""
    def read(tenant_id: str, env: str, subject: str) -> dict[str, Any]:
        return dict(service.values(tenant_id, env, subject, fresh=False)["values"])

    return read


def names_signals(condition: Any) -> bool:
    """True when a condition refers to the ``signals`` attribute anywhere (a key ``signals`` or ``signals.x``)."""
    if isinstance(condition, dict):
        return any(k == ATTRIBUTE or str(k).startswith(ATTRIBUTE + ".") or names_signals(v)
                   for k, v in condition.items())
    if isinstance(condition, list):
        return any(names_signals(item) for item in condition)
    return False


def subject_of(attributes: Mapping[str, Any]) -> str | None:
    for name in ("user_id", "userId", "anonymous_id", "anonymousId", "id"):
        value = attributes.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def with_signals(read: SignalReader, tenant_id: str, env: str, attributes: Mapping[str, Any]) -> dict[str, Any]:
    subject = subject_of(attributes)
    return {**attributes, ATTRIBUTE: read(tenant_id, env, subject) if subject else {}}
