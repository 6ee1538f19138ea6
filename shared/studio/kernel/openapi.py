"""OpenAPI 3.1 generated from the route tables and pydantic models: the frontend's contract."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from studio.kernel import errors
from studio.kernel.problems import PROBLEM_JSON
from studio.kernel.routing import Access, Route

if TYPE_CHECKING:
    from pydantic.json_schema import JsonSchemaMode

_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "code", "request_id"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"},
        "code": {"type": "string"},  # enum: the codes build_openapi is given
        "request_id": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "message": {"type": "string"}}}},
        "current_rev": {"type": "integer"},
    },
}
_TENANT_HEADERS = [
    {"name": "X-Tenant-Id", "in": "header", "required": True, "schema": {"type": "string", "pattern": "^t_[a-z0-9]{3,}$"}},
    {"name": "X-Env", "in": "header", "required": True, "schema": {"type": "string", "enum": ["dev", "staging", "prod"]},
     "description": "The environment. `stage` is also accepted, as a deprecated alias of `staging` (decision 0019)."},
]


_IF_MATCH = ('The ETag this write is based on, e.g. "3" (strong comparison: a weak W/ tag never matches), '
             'a list of them, or * for any current revision. Or send base_rev instead.')
_IF_NONE_MATCH = 'ETags the client holds (weak comparison), or *: a match answers 304 Not Modified.'


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


class _Schemas:
    """Collects model schemas into components, rewriting pydantic's $defs."""

    def __init__(self, codes: Iterable[str]) -> None:
        problem = {**_PROBLEM_SCHEMA, "properties": {**_PROBLEM_SCHEMA["properties"],
                                                     "code": {"type": "string", "enum": sorted(codes)}}}
        self.components: dict[str, Any] = {"Problem": problem}

    def ref(self, model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)
        for name, sub in schema.pop("$defs", {}).items():
            self.components.setdefault(name, sub)
        name = model.__name__
        self.components.setdefault(name, schema)
        return {"$ref": f"#/components/schemas/{name}"}


# Access.SITE_KEY routes (kernel/site_keys.py), by where their clients send the key.
_SITE_KEY_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "query": [{"siteKeyQuery": []}], "bearer": [{"siteKeyBearer": []}, {"siteKeyHeader": []}]}


def _operation(route: Route, schemas: _Schemas) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": f"{route.tag}_{route.handler.__name__}",
        "summary": route.summary,
        "tags": [route.tag],
        "parameters": [{"name": p, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
                       for p in route.params],
        "responses": {},
    }
    if route.access is Access.PUBLIC:
        op["security"] = []
    if route.site_key is not None:  # a path key is the path parameter itself: no scheme to name
        op["security"] = _SITE_KEY_SECURITY.get(route.site_key.place.value, [])
        op["x-site-key-scope"] = route.site_key.scope
    if route.access is Access.TENANT:
        op["parameters"] += _TENANT_HEADERS
    if route.method == "POST" and route.idempotent:
        op["parameters"].append({"name": "Idempotency-Key", "in": "header", "required": False,
                                 "schema": {"type": "string", "minLength": 1, "maxLength": 255}})
    if route.revisioned:
        op["parameters"].append({"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
                                 "description": _IF_MATCH})
        op["responses"]["412"] = _problem("If-Match does not match the current revision (REVISION_CONFLICT)")
        op["responses"]["428"] = _problem("Neither If-Match nor base_rev was sent (PRECONDITION_REQUIRED)")
    if route.method == "GET":
        op["parameters"].append({"name": "If-None-Match", "in": "header", "required": False,
                                 "schema": {"type": "string"}, "description": _IF_NONE_MATCH})
        op["responses"]["304"] = {"description": "Not Modified: If-None-Match matched; ETag, no body"}
    query, body, response = route.query_model, route.body_model, route.response_model
    if query is not None:
        props = query.model_json_schema()
        required = set(props.get("required", []))
        for name, sub in props.get("properties", {}).items():
            op["parameters"].append({"name": name, "in": "query", "required": name in required, "schema": sub})
    if body is not None:
        op["requestBody"] = {"required": True,
                             "content": {media: {"schema": schemas.ref(body, "validation")} for media in route.body_media_types}}
    ok: dict[str, Any] = {"description": "Success"}
    if response is not None and route.status != 204:
        ok["content"] = {"application/json": {"schema": schemas.ref(response, "serialization")}}
    op["responses"][str(route.status)] = ok
    op["responses"]["default"] = _problem("Error (RFC 9457 problem+json; see the code registry)")
    return op


def _check_operation_ids(paths: Mapping[str, Mapping[str, Any]]) -> None:
    """Clients generate one function per operationId: two routes sharing one would collide."""
    seen: dict[str, str] = {}
    for path, operations in paths.items():
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            if op["operationId"] in seen:
                raise ValueError(f"operationId {op['operationId']} of {where} is taken by {seen[op['operationId']]}")
            seen[op["operationId"]] = where


def build_openapi(routes: Iterable[Route], *, title: str = "Studio platform API", version: str = "0.1.0",
                  server_url: str | None = None, extra_paths: Mapping[str, Mapping[str, Any]] | None = None,
                  extra_schemas: Mapping[str, Any] | None = None,
                  error_codes: Mapping[str, errors.ErrorCode] | None = None) -> dict[str, Any]:
    """``extra_paths`` (with the ``extra_schemas`` they refer to) describe routes no route table
    holds: the realtime gateway's (studio/contracts/realtime_openapi.py). ``error_codes``: every code
    a client can get (``studio.domains.error_codes()``); by default the codes registered by the
    modules imported so far."""
    codes = errors.registry() if error_codes is None else error_codes
    schemas = _Schemas(codes)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, schemas)
    for path, operations in (extra_paths or {}).items():
        taken = paths.setdefault(path, {})
        if taken.keys() & operations.keys():
            raise ValueError(f"{path} is described twice")
        taken.update(operations)
    for name, schema in (extra_schemas or {}).items():
        schemas.components.setdefault(name, schema)
    _check_operation_ids(paths)
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version,
                 "description": "Every error is application/problem+json with a stable `code` (x-error-codes)."},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas.components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                                "siteKeyQuery": {"type": "apiKey", "in": "query", "name": "key"},
                                "siteKeyBearer": {"type": "http", "scheme": "bearer"},
                                "siteKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
        "security": [{"bearer": []}],
        "x-error-codes": [{"code": c.code, "status": c.status, "title": c.title}
                          for c in sorted(codes.values(), key=lambda c: c.code)],
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc
