"""The frontend's two contracts, as the runtime serves them: /openapi.json (OpenAPI 3.1, checked
by openapi-spec-validator) and /asyncapi.json (AsyncAPI 3.0, checked against the official JSON
Schema of the specification, vendored in tests/fixtures/asyncapi/)."""
from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from openapi_spec_validator import validate

from infra.localrun import loader
from infra.localrun import manifest as manifest_mod
from studio.contracts.realtime_asyncapi import build_asyncapi
from studio.kernel.openapi import build_openapi
from studio.kernel.routing import Access, Route, Router
from studio.realtime import events as ev

ASYNCAPI_SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "asyncapi" / "asyncapi-3.0.0.schema.json.gz"
REALTIME_PATHS = {"/sse/chat/{thread_id}", "/sse/meta", "/ws/chat/{thread_id}", "/ws/meta", "/healthz/realtime"}


@pytest.fixture(scope="module")
def openapi(client: httpx.Client) -> dict[str, Any]:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    return dict(r.json())


@pytest.fixture(scope="module")
def client(platform: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.base_url, timeout=30) as c:
        yield c


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield method, path, op


def test_the_served_openapi_is_a_valid_openapi_3_1_document(openapi: dict[str, Any]) -> None:
    validate(openapi)  # raises with the first violation (duplicate operationIds included)


def test_operation_ids_are_unique_and_each_health_route_has_its_own(openapi: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in _operations(openapi)]
    assert len(ids) == len(set(ids))
    health = {path: op["operationId"] for _, path, op in _operations(openapi) if path.startswith("/healthz/")}
    assert {f"/healthz/{f.name}" for f in manifest_mod.load().http()} | {"/healthz/realtime"} == set(health)
    assert len(set(health.values())) == len(health)


def test_two_routes_with_one_operation_id_fail_the_generator() -> None:
    router = Router("things")

    def handler(call: Any) -> None: ...

    router.routes = [Route("GET", "/a", handler, Access.PUBLIC, tag="things"),
                     Route("GET", "/b", handler, Access.PUBLIC, tag="things")]
    with pytest.raises(ValueError, match="operationId things_handler"):
        build_openapi(router.routes)


def test_x_env_lists_the_canonical_names_and_documents_the_stage_alias(openapi: dict[str, Any]) -> None:
    seen = 0
    for _, _, op in _operations(openapi):
        for param in op.get("parameters", []):
            if param["name"] == "X-Env":
                seen += 1
                assert param["schema"]["enum"] == ["dev", "staging", "prod"]
                assert "`stage`" in param["description"] and "`staging`" in param["description"]
    assert seen > 10


def test_the_realtime_routes_are_described(openapi: dict[str, Any], client: httpx.Client) -> None:
    assert REALTIME_PATHS <= set(openapi["paths"])
    stream = openapi["paths"]["/sse/chat/{thread_id}"]["get"]
    assert "text/event-stream" in stream["responses"]["200"]["content"]
    assert {p["name"] for p in stream["parameters"]} >= {"ticket", "since", "cursor", "epoch", "Last-Event-ID"}
    assert "101" in openapi["paths"]["/ws/chat/{thread_id}"]["get"]["responses"]
    post = openapi["paths"]["/sse/chat/{thread_id}"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert post["$ref"].rsplit("/", 1)[-1] in openapi["components"]["schemas"]


def test_every_generated_document_validates_not_only_the_served_one() -> None:
    routes = [r for spec in manifest_mod.load().http() for r in loader.http_app(spec).table.routes]
    validate(build_openapi(routes))  # what the schemathesis test and the generated tests read


# -- AsyncAPI -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def asyncapi(client: httpx.Client) -> dict[str, Any]:
    r = client.get("/asyncapi.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    return dict(r.json())


@pytest.fixture(scope="module")
def asyncapi_validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(gzip.decompress(ASYNCAPI_SCHEMA.read_bytes())))


def test_the_served_asyncapi_is_a_valid_asyncapi_3_document(asyncapi: dict[str, Any],
                                                            asyncapi_validator: jsonschema.Draft7Validator) -> None:
    problems = [f"{e.json_path}: {e.message[:200]}" for e in asyncapi_validator.iter_errors(asyncapi)]
    assert not problems, problems
    assert asyncapi["asyncapi"] == "3.0.0"


def test_the_vendored_schema_refuses_a_broken_document(asyncapi: dict[str, Any],
                                                       asyncapi_validator: jsonschema.Draft7Validator) -> None:
    broken = json.loads(json.dumps(asyncapi))
    broken["operations"]["sendThreadEvents"]["action"] = "broadcast"
    del broken["channels"]["threadSocket"]["address"]
    broken["components"]["messages"]["ack"]["payload"] = {"type": "no-such-type"}
    assert len(list(asyncapi_validator.iter_errors(broken))) >= 2


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_every_reference_in_both_documents_resolves(asyncapi: dict[str, Any], openapi: dict[str, Any]) -> None:
    for doc in (asyncapi, openapi):
        for ref in set(_refs(doc)):
            assert ref.startswith("#/"), ref
            _resolve(doc, ref)  # KeyError names a dangling one


def test_the_asyncapi_names_every_frame_the_gateway_sends(asyncapi: dict[str, Any]) -> None:
    names = {m["name"] for m in asyncapi["components"]["messages"].values()}
    assert {ev.CREATED, ev.DELTA, ev.COMPLETED, ev.FAILED, ev.EPOCH_CHANGED, "stream.revoked", "hello", "ack",
            "error", "ping", "pong", "presence.join", "presence.leave", "typing", "send", "resume"} <= names
    addresses = {c["address"] for c in asyncapi["channels"].values()}
    assert addresses == {"/sse/chat/{thread_id}", "/ws/chat/{thread_id}", "/sse/meta", "/ws/meta"}
    assert build_asyncapi("https://api.example.com")["servers"]["ws"]["protocol"] == "wss"
