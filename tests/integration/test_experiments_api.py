"""Experiments and flags over real HTTP: definitions, lifecycle, OFREP, sticky assignments, exposures."""
from __future__ import annotations

import threading

import httpx

from studio.experiments import assignment, paths
from studio.ports.store import Query
from tests.support.api import add_member, new_tenant, new_user
from tests.support.bus_tap import EventTap
from tests.support.experiments import flag_for, sdk_key, start_experiment
from tests.support.platform import RunningPlatform


def _ofrep(client: httpx.Client, key: str, flag: str, context: dict | None) -> httpx.Response:
    return client.post(f"/ofrep/v1/evaluate/flags/{flag}", json={"context": context},
                       headers={"Authorization": f"Bearer {key}"})


def test_definition_lifecycle_and_its_refusals(client: httpx.Client, owner, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    body = {"key": "hero-copy", "variations": [{"key": "a", "weight": 0.5}, {"key": "b", "weight": 0.5}],
            "condition": {"country": {"$in": ["DE", "FR"]}}, "namespace": {"id": "hero", "start": 0, "end": 0.5}}
    r = client.post("/experiments", json=body, headers=h)
    assert r.status_code == 201, r.text
    exp = r.json()
    assert exp["status"] == "draft" and exp["hash_version"] == 2 and r.headers["ETag"] == '"1"'
    assert client.post("/experiments", json=body, headers=h).json()["code"] == "EXPERIMENT_KEY_TAKEN"
    bad = dict(body, key="other", variations=[{"key": "a", "weight": 0.5}, {"key": "b", "weight": 0.2}])
    assert client.post("/experiments", json=bad, headers=h).json()["code"] == "WEIGHTS_INVALID"
    regex = dict(body, key="re", condition={"ua": {"$regex": "(a+)+$"}})
    assert client.post("/experiments", json=regex, headers=h).json()["code"] == "CONDITION_INVALID"
    url = f"/experiments/{exp['id']}"
    assert client.patch(url, json={"status": "stopped", "base_rev": 1}, headers=h).json()["code"] == \
        "STATUS_TRANSITION_INVALID"
    assert client.patch(url, json={"status": "running"}, headers=h).status_code == 428
    assert client.patch(url, json={"status": "running"}, headers={**h, "If-Match": '"9"'}).status_code == 412
    running = client.patch(url, json={"status": "running"}, headers={**h, "If-Match": '"1"'}).json()
    assert running["status"] == "running" and running["started_at"]
    locked = client.patch(url, json={"variations": [{"key": "x"}, {"key": "y"}], "base_rev": 2}, headers=h)
    assert locked.status_code == 409 and locked.json()["code"] == "DEFINITION_LOCKED"
    reweighted = client.patch(url, json={"weights": [0.2, 0.8], "base_rev": 2}, headers=h).json()
    assert [v["weight"] for v in reweighted["variations"]] == [0.2, 0.8]
    stopped = client.patch(url, json={"status": "stopped", "base_rev": 3}, headers=h).json()
    assert stopped["status"] == "stopped"
    assert client.patch(url, json={"coverage": 0.5, "base_rev": 4}, headers=h).json()["code"] == "DEFINITION_LOCKED"
    assert [e["key"] for e in client.get("/experiments", headers=h).json()["experiments"]] == ["hero-copy"]


def test_roles_and_tenant_isolation(client: httpx.Client, owner, tenant: str) -> None:
    exp = start_experiment(client, owner, tenant, "iso")
    viewer = new_user(client, "viewer")
    add_member(client, owner, tenant, viewer, "viewer")
    vh = viewer.in_tenant(tenant)
    assert client.get(f"/experiments/{exp['id']}", headers=vh).status_code == 200
    r = client.post("/experiments", json={"key": "v", "variations": [{"key": "a"}, {"key": "b"}]}, headers=vh)
    assert r.status_code == 403 and r.json()["code"] == "ROLE_INSUFFICIENT"
    member = new_user(client, "member")
    add_member(client, owner, tenant, member, "member")
    assert client.post("/flags/sdk-keys", json={}, headers=member.in_tenant(tenant)).status_code == 403
    stranger = new_user(client, "stranger")
    theirs = new_tenant(client, stranger, "Other")
    # Another tenant's experiment id, asked for in one's own tenant: not found, never shown.
    r = client.get(f"/experiments/{exp['id']}", headers=stranger.in_tenant(theirs))
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
    r = client.patch(f"/experiments/{exp['id']}", json={"coverage": 0.1, "base_rev": 2}, headers=stranger.in_tenant(theirs))
    assert r.status_code == 404


def test_ofrep_single_and_bulk_with_etag(client: httpx.Client, owner, tenant: str) -> None:
    exp = start_experiment(client, owner, tenant, "button-colour")
    flag_for(client, owner, tenant, "button-colour", exp["id"])
    key = sdk_key(client, owner, tenant)
    defn = assignment.Definition("button-colour", ("control", "treatment"), (0.5, 0.5))
    for subject in ("ada", "grace", "zoë", "李雷", "🚀-user"):
        r = _ofrep(client, key, "button-colour", {"targetingKey": subject})
        assert r.status_code == 200, r.text
        body = r.json()
        expected = assignment.assign(defn, {"id": subject}).variation
        assert body["variant"] == ["control", "treatment"][expected]
        assert body["value"] == ["blue", "green"][expected] and body["reason"] == "SPLIT"
    r = _ofrep(client, key, "button-colour", None)  # no targeting key: not in the experiment, the default
    assert r.json()["value"] == "grey" and r.json()["reason"] == "DEFAULT"

    bulk = client.post("/ofrep/v1/evaluate/flags", json={"context": {"targetingKey": "ada"}},
                       headers={"Authorization": f"Bearer {key}"})
    assert bulk.status_code == 200 and [f["key"] for f in bulk.json()["flags"]] == ["button-colour"]
    etag = bulk.headers["ETag"]
    again = client.post("/ofrep/v1/evaluate/flags", json={"context": {"targetingKey": "ada"}},
                        headers={"Authorization": f"Bearer {key}", "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    # A new subject's first answer is tagged as its later ones are (its assignment is sticky from then on).
    fresh = {"context": {"targetingKey": "first-time-visitor"}}
    first = client.post("/ofrep/v1/evaluate/flags", json=fresh, headers={"Authorization": f"Bearer {key}"})
    second = client.post("/ofrep/v1/evaluate/flags", json=fresh,
                         headers={"Authorization": f"Bearer {key}", "If-None-Match": first.headers["ETag"]})
    assert first.json()["flags"][0]["metadata"]["sticky"] is False and second.status_code == 304
    # A change to the flag changes the answer, and so its tag.
    h = owner.in_tenant(tenant)
    unchanged = client.patch("/flags/button-colour", json={"default_value": "red", "base_rev": 2}, headers=h)
    assert unchanged.is_success  # ada is in the experiment: the default is not what she is served
    same = client.post("/ofrep/v1/evaluate/flags", json={"context": {"targetingKey": "ada"}},
                       headers={"Authorization": f"Bearer {key}", "If-None-Match": etag})
    assert same.status_code == 304
    assert client.patch("/flags/button-colour", json={"status": "stopped", "base_rev": 3}, headers=h).is_success
    changed = client.post("/ofrep/v1/evaluate/flags", json={"context": {"targetingKey": "ada"}},
                          headers={"Authorization": f"Bearer {key}", "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.json()["flags"][0] == {"key": "button-colour", "value": "red", "reason": "DISABLED",
                                          "variant": "default", "metadata": {"flag_rev": 4}}


def test_ofrep_configuration(client: httpx.Client, owner, tenant: str) -> None:
    key = sdk_key(client, owner, tenant)
    r = client.get("/ofrep/v1/configuration", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and r.json()["capabilities"]["cacheInvalidation"]["polling"]["enabled"] is True
    again = client.get("/ofrep/v1/configuration", headers={"Authorization": f"Bearer {key}",
                                                           "If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    assert client.get("/ofrep/v1/configuration").status_code == 401


def test_ofrep_errors_speak_ofrep_and_problem_json(client: httpx.Client, owner, tenant: str) -> None:
    key = sdk_key(client, owner, tenant)
    r = _ofrep(client, key, "no-such-flag", {"targetingKey": "x"})
    assert r.status_code == 404
    assert r.json()["errorCode"] == "FLAG_NOT_FOUND" and r.json()["code"] == "FLAG_NOT_FOUND"
    r = client.post("/ofrep/v1/evaluate/flags/x", json={"context": [1, 2]}, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 400 and r.json()["errorCode"] == "INVALID_CONTEXT"
    r = _ofrep(client, key, "x", {"targetingKey": "k" * 300})
    assert r.status_code == 400 and r.json()["errorCode"] == "INVALID_CONTEXT"
    for bad in ("ofk_" + "A" * 43, "not-a-key", "ofk_", "ofk_!" + "A" * 40):
        r = _ofrep(client, bad, "x", {})
        assert r.status_code == 401 and r.json()["code"] == "SDK_KEY_INVALID", r.text
    r = client.post("/ofrep/v1/evaluate/flags/x", json={})
    assert r.status_code == 401 and r.json()["code"] == "SDK_KEY_INVALID" and "WWW-Authenticate" in r.headers
    r = client.post("/ofrep/v1/evaluate/flags", json={}, headers={"X-API-Key": key})
    assert r.status_code == 200 and r.json() == {"flags": []}
    # A revoked key stops working (the verifying instance is the one that revoked it: no cache delay).
    h = owner.in_tenant(tenant)
    key_id = client.get("/flags/sdk-keys", headers=h).json()["keys"][0]["id"]
    assert client.post(f"/flags/sdk-keys/{key_id}/revoke", headers=h).json()["revoked"] is True
    assert _ofrep(client, key, "x", {}).status_code == 401


def test_flag_force_rules_conditions_and_rollout(client: httpx.Client, owner, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    rules = [{"kind": "force", "condition": {"plan": "pro"}, "value": True},
             {"kind": "force", "coverage": 0.3, "value": True}]
    assert client.post("/flags", json={"key": "new-nav", "default_value": False, "rules": rules}, headers=h).is_success
    key = sdk_key(client, owner, tenant)
    assert _ofrep(client, key, "new-nav", {"targetingKey": "a", "plan": "pro"}).json()["reason"] == "DISABLED"
    assert client.patch("/flags/new-nav", json={"status": "running", "base_rev": 1}, headers=h).is_success
    pro = _ofrep(client, key, "new-nav", {"targetingKey": "a", "plan": "pro"}).json()
    assert pro["value"] is True and pro["variant"] == "rule-0" and pro["reason"] == "TARGETING_MATCH"
    rolled = sum(_ofrep(client, key, "new-nav", {"targetingKey": f"s{i}"}).json()["value"] for i in range(200))
    assert 40 <= rolled <= 80  # ~30% of 200


def test_sticky_assignments_survive_a_weight_change(client: httpx.Client, owner, tenant: str) -> None:
    exp = start_experiment(client, owner, tenant, "sticky", variations=[{"key": "a", "value": 1, "weight": 0.5},
                                                                        {"key": "b", "value": 2, "weight": 0.5}])
    flag_for(client, owner, tenant, "sticky", exp["id"])
    key = sdk_key(client, owner, tenant)
    before = {f"u{i}": _ofrep(client, key, "sticky", {"targetingKey": f"u{i}"}).json()["variant"] for i in range(120)}
    assert set(before.values()) == {"a", "b"}
    r = client.patch(f"/experiments/{exp['id']}", json={"weights": [0.01, 0.99], "base_rev": 2},
                     headers=owner.in_tenant(tenant))
    assert r.status_code == 200, r.text
    after = {s: _ofrep(client, key, "sticky", {"targetingKey": s}).json() for s in before}
    assert {s: a["variant"] for s, a in after.items()} == before  # nobody moved
    assert all(a["metadata"]["sticky"] for a in after.values())
    fresh = [_ofrep(client, key, "sticky", {"targetingKey": f"new{i}"}).json()["variant"] for i in range(100)]
    assert fresh.count("b") >= 90  # newcomers follow the new weights


def test_exposures_are_deduplicated_under_concurrency(client: httpx.Client, platform: RunningPlatform,
                                                      owner, tenant: str) -> None:
    exp = start_experiment(client, owner, tenant, "dedupe")
    flag_for(client, owner, tenant, "dedupe", exp["id"])
    key = sdk_key(client, owner, tenant)
    tap = EventTap(platform, "analytics.events")
    answers: list[str] = []
    barrier = threading.Barrier(16)

    def evaluate() -> None:
        with httpx.Client(base_url=platform.base_url, timeout=30) as c:
            barrier.wait()
            for _ in range(3):
                answers.append(_ofrep(c, key, "dedupe", {"targetingKey": "same-subject"}).json()["variant"])

    threads = [threading.Thread(target=evaluate) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 48 and len(set(answers)) == 1
    rows = [e for e in tap.events(tenant) if e["type"] == "exposure"]
    assert len(rows) == 1, rows
    row = rows[0]
    assert row["name"] == "dedupe" and row["user_id"] == "same-subject"
    assert '"experiment_id":"' + exp["id"] + '"' in row["props"]
    stored = platform.deps.store.query(Query(f"tenants/{tenant}/envs/dev/experiments/{exp['id']}/exposures"))
    assert len(stored.docs) == 1
    subject = paths.subject_token("id", "same-subject")
    assert platform.deps.store.get(paths.assignment(tenant, "dev", exp["id"], subject)) is not None
