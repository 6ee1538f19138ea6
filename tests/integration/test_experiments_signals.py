"""Targeting on analytics signals and a signal as an experiment's metric (CAPABILITIES D13), with the
signals computed by the analytics writer from events published on ``analytics.events``."""
from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import httpx

from studio.ports.analytics import TOPIC, encode_message, message_attributes
from tests.support.experiments import flag_for, sdk_key, start_experiment
from tests.support.platform import RunningPlatform


def _purchases(platform: RunningPlatform, tenant: str, counts: dict[str, int]) -> None:
    ts = datetime.now(UTC) + timedelta(seconds=1)
    for subject, n in counts.items():
        for i in range(n):
            row = {"event_id": f"p-{tenant}-{subject}-{i}", "tenant_id": tenant, "env": "dev", "type": "custom",
                   "name": "purchase", "user_id": subject, "ts": ts, "value": 1.0}
            platform.deps.bus.publish(TOPIC, encode_message(row), message_attributes(row))
    platform.drain()


def _signal(client: httpx.Client, owner, tenant: str) -> None:
    r = client.post("/signals", json={"name": "purchases", "type": "number", "aggregation": "count",
                                      "source": {"event_type": "custom", "name": "purchase"}},
                    headers=owner.in_tenant(tenant))
    assert r.status_code == 201, r.text


def test_a_force_rule_targets_on_a_signal(client: httpx.Client, platform: RunningPlatform, owner, tenant: str) -> None:
    _signal(client, owner, tenant)
    _purchases(platform, tenant, {"loyal": 3, "once": 1})
    h = owner.in_tenant(tenant)
    assert client.post("/flags", json={"key": "vip-offer", "default_value": False, "rules": [
        {"condition": {"signals.purchases": {"$gte": 2}}, "value": True}]}, headers=h).is_success
    assert client.patch("/flags/vip-offer", json={"status": "running", "base_rev": 1}, headers=h).is_success
    key = sdk_key(client, owner, tenant)

    def value(subject: str, **extra: object) -> bool:
        r = client.post("/ofrep/v1/evaluate/flags/vip-offer", json={"context": {"targetingKey": subject, **extra}},
                        headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200, r.text
        return bool(r.json()["value"])

    assert value("loyal") is True
    assert value("once") is False and value("never") is False
    assert value("never", signals={"purchases": 99}) is False  # a caller cannot claim its own signals


def test_a_signal_as_the_metric(client: httpx.Client, platform: RunningPlatform, owner, tenant: str) -> None:
    _signal(client, owner, tenant)
    exp = start_experiment(client, owner, tenant, "upsell", metric={"signal": "purchases", "kind": "mean"})
    flag_for(client, owner, tenant, "upsell", exp["id"])
    key = sdk_key(client, owner, tenant)
    variation: dict[str, int] = {}
    for i in range(120):
        r = client.post("/ofrep/v1/evaluate/flags/upsell", json={"context": {"targetingKey": f"c{i}"}},
                        headers={"Authorization": f"Bearer {key}"})
        variation[f"c{i}"] = ["control", "treatment"].index(r.json()["variant"])
    counts = {s: (i % 4) + (2 if v else 0) for i, (s, v) in enumerate(variation.items())}
    _purchases(platform, tenant, counts)
    res = client.get(f"/experiments/{exp['id']}/results", headers=owner.in_tenant(tenant)).json()
    assert res["metric"]["signal"] == "purchases" and res["test"] == "welch_t"
    for i, row in enumerate(res["variations"]):
        mine = [c for s, c in counts.items() if variation[s] == i]
        assert row["users"] == len(mine)
        assert math.isclose(row["metric_value"], sum(mine) / len(mine), rel_tol=1e-9)
    assert res["variations"][1]["p_value"] < 0.001  # +2 purchases each: unmistakable
