"""Experiment results over real HTTP, against a brute-force computation on the same generated events.

Exposures come from real OFREP evaluations: the rows the runtime published to ``analytics.events``,
stored by the analytics writer function. Metric and web-vitals events are generated around them (put
in the analytics store directly): some before the exposure, some by subjects never exposed, some in
another tenant, all of which the results must ignore.
"""
from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta

import httpx
from scipy import stats as sp

from tests.support.bus_tap import EventTap
from tests.support.experiments import flag_for, sdk_key, start_experiment
from tests.support.platform import RunningPlatform


def _deliver(platform: RunningPlatform, tap: EventTap, tenant: str) -> list[dict]:
    """The published rows (read by the test's own tap), once the runtime delivered them to the writer."""
    return tap.events(tenant)  # relays the outbox and runs every due delivery, the writer's included


def _event(tenant: str, n: int, kind: str, name: str, subject: str, ts: datetime, value: float | None) -> dict:
    return {"event_id": f"t-{tenant}-{n}", "tenant_id": tenant, "env": "dev", "type": kind, "name": name,
            "user_id": subject, "ts": ts, "value": value, "props": "{}"}


def _p75(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(0.75 * len(ordered)) - 1]


def test_results_match_a_brute_force_computation(client: httpx.Client, platform: RunningPlatform,
                                                 owner, tenant: str) -> None:
    exp = start_experiment(client, owner, tenant, "checkout-cta", metric={"event": "purchase", "kind": "rate"},
                           variations=[{"key": "control", "value": 0, "weight": 0.5},
                                       {"key": "treatment", "value": 1, "weight": 0.5}])
    flag_for(client, owner, tenant, "checkout-cta", exp["id"])
    key = sdk_key(client, owner, tenant)
    tap = EventTap(platform, "analytics.events")
    variation_of: dict[str, int] = {}
    for i in range(300):
        subject = f"shopper-{i}"
        r = client.post("/ofrep/v1/evaluate/flags/checkout-cta", json={"context": {"targetingKey": subject}},
                        headers={"Authorization": f"Bearer {key}"})
        variation_of[subject] = r.json()["value"]
    exposures = _deliver(platform, tap, tenant)
    assert len(exposures) == 300 and {e["type"] for e in exposures} == {"exposure"}

    rng = random.Random(5)
    now = datetime.now(UTC) + timedelta(seconds=1)
    events, n = [], 0
    converted = {0: set(), 1: set()}
    vitals: dict[tuple[int, str], list[float]] = {}
    for subject, v in variation_of.items():
        if rng.random() < (0.15 if v == 0 else 0.35):
            events.append(_event(tenant, n := n + 1, "custom", "purchase", subject, now, None))
            converted[v].add(subject)
        if rng.random() < 0.2:  # before the exposure: never counts
            events.append(_event(tenant, n := n + 1, "custom", "purchase", subject, now - timedelta(days=1), None))
        for name, value in (("LCP", rng.uniform(800, 4000)), ("INP", rng.uniform(50, 500)), ("CLS", rng.random() / 4)):
            if rng.random() < 0.5:
                events.append(_event(tenant, n := n + 1, "web_vitals", name, subject, now, value))
                vitals.setdefault((v, name), []).append(value)
    for i in range(50):  # never exposed, and another tenant's purchases by the same subjects
        events.append(_event(tenant, n := n + 1, "custom", "purchase", f"stranger-{i}", now, None))
        events.append(_event("t_other000", n := n + 1, "custom", "purchase", f"shopper-{i}", now, None))
    platform.deps.analytics.insert(events)

    r = client.get(f"/experiments/{exp['id']}/results", headers=owner.in_tenant(tenant))
    assert r.status_code == 200, r.text
    res = r.json()
    users = [sum(1 for v in variation_of.values() if v == i) for i in (0, 1)]
    assert [v["users"] for v in res["variations"]] == users and res["users"] == 300
    assert [v["converted"] for v in res["variations"]] == [len(converted[0]), len(converted[1])]
    rates = [len(converted[i]) / users[i] for i in (0, 1)]
    assert [v["metric_value"] for v in res["variations"]] == [rates[0], rates[1]]
    treatment = res["variations"][1]
    assert math.isclose(treatment["uplift"], rates[1] / rates[0] - 1, rel_tol=1e-9)
    table = [[len(converted[0]), users[0] - len(converted[0])], [len(converted[1]), users[1] - len(converted[1])]]
    chi2 = sp.chi2_contingency(table, correction=False)  # the pooled z-test squared
    assert math.isclose(treatment["p_value"], chi2.pvalue, rel_tol=1e-6)
    assert treatment["ci_low"] < treatment["uplift"] < treatment["ci_high"]
    assert math.isclose(res["srm_p_value"], sp.chisquare(users, [150, 150]).pvalue, rel_tol=1e-9) and not res["srm"]
    for i, variation in enumerate(res["variations"]):
        for name in ("LCP", "INP", "CLS"):
            assert variation["vitals"][f"{name.lower()}_p75"] == _p75(vitals[(i, name)])
        assert variation["vitals"]["samples"] == sum(len(vitals[(i, m)]) for m in ("LCP", "INP", "CLS"))


def test_a_skewed_split_is_flagged_and_a_mean_metric_uses_welch(client: httpx.Client, platform: RunningPlatform,
                                                                owner, tenant: str) -> None:
    exp = start_experiment(client, owner, tenant, "basket", metric={"event": "basket_value", "kind": "mean"})
    now = datetime.now(UTC)
    rows, values = [], {0: [], 1: []}
    rng = random.Random(6)
    for i in range(900):  # 600 / 300 where the weights say 50 / 50: a sample-ratio mismatch
        v = 0 if i < 600 else 1
        subject = f"b{i}"
        rows.append({"event_id": f"x{i}", "tenant_id": tenant, "env": "dev", "type": "exposure", "name": "basket",
                     "user_id": subject, "ts": now, "props": json.dumps({"experiment_id": exp["id"], "variation": v})})
        amount = rng.uniform(10, 50) * (1.3 if v else 1.0)
        rows.append({"event_id": f"y{i}", "tenant_id": tenant, "env": "dev", "type": "custom", "name": "basket_value",
                     "user_id": subject, "ts": now + timedelta(seconds=5), "value": amount})
        values[v].append(amount)
    platform.deps.analytics.insert(rows)
    res = client.get(f"/experiments/{exp['id']}/results", headers=owner.in_tenant(tenant)).json()
    assert res["srm"] is True and res["srm_p_value"] < 1e-6 and res["test"] == "welch_t"
    want = sp.ttest_ind(values[1], values[0], equal_var=False)
    assert math.isclose(res["variations"][1]["p_value"], want.pvalue, rel_tol=1e-6, abs_tol=1e-300)
    assert math.isclose(res["variations"][0]["metric_value"], sum(values[0]) / 600, rel_tol=1e-9)


def test_results_of_another_tenant_are_not_found(client: httpx.Client, owner, tenant: str) -> None:
    from tests.support.api import new_tenant, new_user

    exp = start_experiment(client, owner, tenant, "private")
    other = new_user(client, "other")
    theirs = new_tenant(client, other, "Theirs")
    r = client.get(f"/experiments/{exp['id']}/results", headers=other.in_tenant(theirs))
    assert r.status_code == 404


def test_results_before_any_traffic_and_with_a_hostile_metric_name(client: httpx.Client, owner, tenant: str) -> None:
    exp = start_experiment(client, owner, tenant, "quiet", metric={"event": "x' OR 1=1 --", "kind": "rate"})
    r = client.get(f"/experiments/{exp['id']}/results", headers=owner.in_tenant(tenant))
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["users"] == 0 and res["srm_p_value"] is None and res["srm"] is False
    for v in res["variations"]:
        assert (v["users"], v["converted"], v["metric_value"], v["p_value"], v["uplift"]) == (0, 0, None, None, None)
        assert v["vitals"] == {"lcp_p75": None, "inp_p75": None, "cls_p75": None, "samples": 0}
    viewer_headers = owner.in_tenant(tenant)
    r = client.get(f"/experiments/{exp['id']}/results", headers={**viewer_headers, "If-None-Match": '"1"'})
    assert r.status_code == 200  # results carry no ETag: never a stale 304
