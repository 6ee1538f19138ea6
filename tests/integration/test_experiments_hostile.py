"""Hostile input on the experiments routes: each refused with a problem+json code, never a 500,
never a silent success."""
from __future__ import annotations

import httpx
import pytest

from tests.support.api import new_tenant, new_user
from tests.support.bus_tap import EventTap
from tests.support.experiments import sdk_key, start_experiment
from tests.support.platform import RunningPlatform

VALID = {"key": "hostile", "variations": [{"key": "a"}, {"key": "b"}]}


def _deep(depth: int) -> dict:
    node: dict = {"x": 1}
    for _ in range(depth):
        node = {"$and": [node]}
    return node


@pytest.mark.parametrize(("body", "code"), [
    ({**VALID, "coverage": 1e308 * 10}, "INVALID_JSON"),  # Infinity never parses
    ({**VALID, "hash_version": 2**62}, "VALIDATION_FAILED"),
    ({**VALID, "hash_version": 3}, "VALIDATION_FAILED"),
    ({**VALID, "key": "Ünïcode"}, "VALIDATION_FAILED"),
    ({**VALID, "key": "../../etc"}, "VALIDATION_FAILED"),
    ({**VALID, "variations": [{"key": "a"}]}, "VALIDATION_FAILED"),
    ({**VALID, "variations": [{"key": "a"}, {"key": "a"}]}, "VALIDATION_FAILED"),
    ({**VALID, "variations": [{"key": "a", "weight": 0.9}, {"key": "b"}]}, "WEIGHTS_INVALID"),
    ({**VALID, "variations": [{"key": "a", "weight": -1}, {"key": "b", "weight": 2}]}, "VALIDATION_FAILED"),
    ({**VALID, "variations": [{"key": "a", "value": "x" * 9000}, {"key": "b"}]}, "VALIDATION_FAILED"),
    ({**VALID, "namespace": {"id": "n", "start": 0.6, "end": 0.2}}, "VALIDATION_FAILED"),
    ({**VALID, "condition": _deep(20)}, "CONDITION_INVALID"),
    ({**VALID, "condition": {"a": {"$regex": "(x+)+y"}}}, "CONDITION_INVALID"),
    ({**VALID, "condition": [1, 2]}, "VALIDATION_FAILED"),
    ({**VALID, "hash_attribute": "a b"}, "VALIDATION_FAILED"),
    ({**VALID, "surprise": True}, "VALIDATION_FAILED"),
])
def test_bad_experiment_definitions_are_refused(client: httpx.Client, owner, tenant: str, body: dict,
                                                code: str) -> None:
    import json

    raw = json.dumps(body, allow_nan=True)
    r = client.post("/experiments", content=raw, headers={**owner.in_tenant(tenant), "Content-Type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"] == "application/problem+json" and r.json()["code"] == code, r.text


def test_a_flag_cannot_point_at_another_tenants_experiment(client: httpx.Client, owner, tenant: str) -> None:
    stranger = new_user(client, "stranger")
    theirs = new_tenant(client, stranger, "Theirs")
    foreign = start_experiment(client, stranger, theirs, "foreign")
    rule = {"kind": "experiment", "experiment_id": foreign["id"]}
    r = client.post("/flags", json={"key": "steal", "rules": [rule]}, headers=owner.in_tenant(tenant))
    assert r.status_code == 400 and r.json()["code"] == "EXPERIMENT_UNKNOWN"
    h = owner.in_tenant(tenant)
    assert client.post("/flags", json={"key": "steal"}, headers=h).status_code == 201
    r = client.patch("/flags/steal", json={"rules": [rule], "base_rev": 1}, headers=h)
    assert r.status_code == 400 and r.json()["code"] == "EXPERIMENT_UNKNOWN"
    assert client.get("/flags/steal", headers=h).json()["rev"] == 1  # nothing was written
    r = client.post("/flags", json={"key": "sdk-keys"}, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "EXPERIMENT_KEY_TAKEN"


def test_ofrep_with_another_tenants_key_sees_only_that_tenant(client: httpx.Client, owner, tenant: str) -> None:
    mine = start_experiment(client, owner, tenant, "mine")
    h = owner.in_tenant(tenant)
    client.post("/flags", json={"key": "mine", "rules": [{"kind": "experiment", "experiment_id": mine["id"]}]},
                headers=h)
    stranger = new_user(client, "stranger")
    theirs = new_tenant(client, stranger, "Theirs")
    their_key = sdk_key(client, stranger, theirs)
    r = client.post("/ofrep/v1/evaluate/flags/mine", json={"context": {"targetingKey": "x"}},
                    headers={"Authorization": f"Bearer {their_key}"})
    assert r.status_code == 404 and r.json()["errorCode"] == "FLAG_NOT_FOUND"
    r = client.post("/ofrep/v1/evaluate/flags", json={}, headers={"Authorization": f"Bearer {their_key}"})
    assert r.json() == {"flags": []}
    # Their key's id, revoked from my tenant: not found there, and their key keeps working.
    their_id = client.get("/flags/sdk-keys", headers=stranger.in_tenant(theirs)).json()["keys"][0]["id"]
    r = client.post(f"/flags/sdk-keys/{their_id}/revoke", headers=h)
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
    assert client.post("/ofrep/v1/evaluate/flags", json={}, headers={"Authorization": f"Bearer {their_key}"}
                       ).status_code == 200
    # A user's own access token is no SDK key.
    r = client.post("/ofrep/v1/evaluate/flags", json={}, headers=owner.auth)
    assert r.status_code == 401 and r.json()["code"] == "SDK_KEY_INVALID"


def test_ofrep_contexts_that_are_not_contexts(client: httpx.Client, owner, tenant: str) -> None:
    key = sdk_key(client, owner, tenant)
    auth = {"Authorization": f"Bearer {key}"}
    for context, status in (({"targetingKey": 5}, 400), ({"a": "x" * 20_000}, 400), ("str", 400),
                            ({"targetingKey": "ok", "nested": _deep(30)}, 200)):
        r = client.post("/ofrep/v1/evaluate/flags", json={"context": context}, headers=auth)
        assert r.status_code == status, (context, r.text)
    r = client.post("/ofrep/v1/evaluate/flags", content=b'{"context": {"x": NaN}}',
                    headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "INVALID_JSON"
    r = client.post("/ofrep/v1/evaluate/flags/" + "k" * 500, json={}, headers=auth)
    assert r.status_code == 404
    r = client.post("/ofrep/v1/evaluate/flags", json={}, headers={**auth, "If-None-Match": "W/ garbage"})
    assert r.status_code == 400 and r.json()["code"] == "INVALID_PRECONDITION"


def test_simulation_refusals_and_progress(client: httpx.Client, platform: RunningPlatform, owner,
                                         tenant: str) -> None:
    h = owner.in_tenant(tenant)
    draft = client.post("/experiments", json=VALID, headers=h).json()
    r = client.post(f"/experiments/{draft['id']}/simulate", json={"subjects": 5}, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "SIMULATION_REFUSED"
    prod = owner.in_tenant(tenant, "prod")
    running = client.post("/experiments", json=VALID, headers=prod).json()
    client.patch(f"/experiments/{running['id']}", json={"status": "running", "base_rev": 1}, headers=prod)
    r = client.post(f"/experiments/{running['id']}/simulate", json={"subjects": 5}, headers=prod)
    assert r.status_code == 409 and r.json()["code"] == "SIMULATION_REFUSED"
    r = client.post(f"/experiments/{running['id']}/simulate", json={"subjects": 10**9}, headers=h)
    assert r.status_code in (400, 404)
    exp = start_experiment(client, owner, tenant, "simulated")
    r = client.post(f"/experiments/{exp['id']}/simulate", json={"subjects": 5, "rates": [0.1, 0.2, 0.3]}, headers=h)
    assert r.status_code == 400 and r.json()["code"] == "VALIDATION_FAILED"
    meta = EventTap(platform, "realtime.meta")
    r = client.post(f"/experiments/{exp['id']}/simulate", json={"subjects": 250}, headers=h)
    assert r.status_code == 200 and r.json()["assigned"] == 250
    progress = [e["data"] for e in meta.events(tenant) if e["type"] == "experiments.simulation_progress"]
    assert [p["done"] for p in progress] == [100, 200, 250] and progress[-1]["of"] == 250
