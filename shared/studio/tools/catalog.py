"""The tool registry: the built-in tools every domain declares (``studio.domains.tool_specs``) and each
tenant's HTTP tools, stored per tenant and env with every version kept (``name@version`` reaches an old
one). Tenant tools never shadow a platform domain's names: their prefix may not be a domain's name."""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from studio import domains
from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent
from studio.kernel.roles import Role
from studio.kernel.tools import ToolCost, ToolInvocation, ToolSpec
from studio.ports.store import Document, DocumentStore, Query, Transaction
from studio.tools import paths
from studio.tools.errors import (
    TOOL_NAME_RESERVED,
    TOOL_NOT_FOUND,
    TOOL_SCHEMA_INVALID,
    TOOL_VERSION_EXISTS,
)
from studio.tools.ssrf import UrlGuard

MAX_TENANT_TOOLS = 200
MAX_VERSIONS = 50
MAX_SCHEMA_BYTES = 32 * 1024


@dataclass(frozen=True)
class HttpToolSpec(ToolSpec):
    """A tenant's HTTP tool: the URL its handler posts to, shown by GET /tools."""

    url: str = ""


def semver_key(version: str) -> tuple[int, int, int]:
    major, minor, patch = (int(p) for p in version.split("."))
    return major, minor, patch


@cache
def builtin_specs() -> dict[str, dict[str, ToolSpec]]:
    """name -> version -> spec, from every domain's row (loaded once per process)."""
    found: dict[str, dict[str, ToolSpec]] = {}
    for spec in domains.tool_specs():
        versions = found.setdefault(spec.name, {})
        if spec.version in versions:
            raise ValueError(f"built-in tool {spec.name}@{spec.version} declared twice")
        versions[spec.version] = spec
    return found


def split_ref(ref: str) -> tuple[str, str | None]:
    name, _, version = ref.partition("@")
    return name, version or None


def check_schema(schema: Mapping[str, Any], what: str) -> None:
    """A tool schema is a valid 2020-12 schema of an object, small enough to hand to any model."""
    from jsonschema import Draft202012Validator

    if len(json.dumps(schema)) > MAX_SCHEMA_BYTES:
        raise errors.StudioError(TOOL_SCHEMA_INVALID, f"{what} exceeds {MAX_SCHEMA_BYTES} bytes")
    if schema.get("type") != "object":
        raise errors.StudioError(TOOL_SCHEMA_INVALID, f"{what} must describe an object (\"type\": \"object\")")
    # Validated against the 2020-12 meta-schema; the detail names where, in our words.
    problems = list(Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(schema))
    if problems:
        where = "/".join(str(p) for p in problems[0].absolute_path) or "(root)"
        raise errors.StudioError(TOOL_SCHEMA_INVALID, f"{what} is not a valid JSON Schema 2020-12: see {where}")


class ToolCatalog:
    def __init__(self, store: DocumentStore, guard: UrlGuard) -> None:
        self._store = store
        self._guard = guard

    # -- reading -----------------------------------------------------------------------------------
    def resolve(self, ctx: RequestContext, ref: str) -> ToolSpec:
        """The spec ``name`` (latest version) or ``name@version`` names, for this tenant and env."""
        name, version = split_ref(ref)
        versions = builtin_specs().get(name)
        if versions is None:
            doc = self._store.get(paths.tool(ctx.tenant_id, ctx.env, name)) if _valid_name(name) else None
            if doc is None:
                raise errors.StudioError(TOOL_NOT_FOUND, f"no tool {name!r}")
            versions = {d["version"]: self._http_spec(name, d) for d in doc.data["versions"]}
        chosen = version or max(versions, key=semver_key)
        if chosen not in versions:
            raise errors.StudioError(TOOL_NOT_FOUND, f"{name} has no version {chosen}")
        return versions[chosen]

    def describe(self, ctx: RequestContext, ref: str) -> dict[str, Any]:
        name, _ = split_ref(ref)
        spec = self.resolve(ctx, ref)
        if name in builtin_specs():
            return tool_view(spec, sorted(builtin_specs()[name], key=semver_key), None)
        doc = self._store.get(paths.tool(ctx.tenant_id, ctx.env, name))
        assert doc is not None  # resolve found it
        return tool_view(spec, [d["version"] for d in doc.data["versions"]], doc.rev)

    def _latest(self, ctx: RequestContext) -> list[tuple[ToolSpec, list[str], int | None]]:
        """(latest spec, its versions, rev) of every tool: built-ins first, then the tenant's, by name.
        One query for the tenant's tools: MCP's tools/list and every agent reply read this."""
        out: list[tuple[ToolSpec, list[str], int | None]] = [
            (versions[max(versions, key=semver_key)], sorted(versions, key=semver_key), None)
            for _, versions in sorted(builtin_specs().items())]
        page = self._store.query(Query(paths.tools(ctx.tenant_id, ctx.env), limit=MAX_TENANT_TOOLS))
        for doc in sorted(page.docs, key=lambda d: d.doc_id):
            latest = max(doc.data["versions"], key=lambda d: semver_key(d["version"]))
            out.append((self._http_spec(doc.doc_id, latest), [d["version"] for d in doc.data["versions"]], doc.rev))
        return out

    def list_tools(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """The latest version of every tool the tenant can invoke: built-ins first, then its own."""
        return [tool_view(spec, versions, rev) for spec, versions, rev in self._latest(ctx)]

    def specs(self, ctx: RequestContext) -> list[ToolSpec]:
        return [spec for spec, _, _ in self._latest(ctx)]

    def current_rev(self, ctx: RequestContext, name: str) -> int:
        """0 for a tool not registered yet (a PUT at base_rev 0 creates it)."""
        if not _valid_name(name):
            raise errors.StudioError(errors.VALIDATION_FAILED, "a tool name is domain.verb: lowercase letters, digits, _",
                                     errors=[{"loc": ["path", "name"], "msg": "must match domain.verb",
                                              "type": "pattern"}])
        doc = self._store.get(paths.tool(ctx.tenant_id, ctx.env, name))
        return 0 if doc is None else doc.rev

    def existing_rev(self, ctx: RequestContext, name: str) -> int | None:
        if not _valid_name(name):
            return None
        doc = self._store.get(paths.tool(ctx.tenant_id, ctx.env, name))
        return None if doc is None else doc.rev

    # -- writing -----------------------------------------------------------------------------------
    def put_http_tool(self, ctx: RequestContext, name: str, definition: dict[str, Any], base_rev: int) -> dict[str, Any]:
        """Register a new version of a tenant HTTP tool (versions are immutable once published)."""
        if name.split(".")[0] in {row.name for row in domains.DOMAINS} or name in builtin_specs():
            raise errors.StudioError(TOOL_NAME_RESERVED, f"{name.split('.')[0]} is a platform domain's prefix")
        check_schema(definition["input_schema"], "input_schema")
        check_schema(definition["output_schema"], "output_schema")
        self._guard.check_syntax(definition["url"])  # resolved again, and re-checked, at every call
        version = dict(definition, created_at=utc_now(), created_by=ctx.user_id)
        path = paths.tool(ctx.tenant_id, ctx.env, name)

        def change(doc: Document | None) -> dict[str, Any]:
            versions = list(doc.data["versions"]) if doc else []
            if any(v["version"] == definition["version"] for v in versions):
                raise errors.StudioError(TOOL_VERSION_EXISTS, f"{name}@{definition['version']} exists already")
            if len(versions) >= MAX_VERSIONS:
                versions = versions[1:]  # the oldest goes; a tenant keeps the last MAX_VERSIONS
            return {"name": name, "versions": [*versions, version], "updated_at": utc_now()}

        def write(tx: Transaction) -> Document:
            if tx.get(path) is None and len(tx.query(Query(paths.tools(ctx.tenant_id, ctx.env),
                                                           limit=MAX_TENANT_TOOLS)).docs) >= MAX_TENANT_TOOLS:
                raise errors.StudioError(errors.VALIDATION_FAILED, f"a tenant keeps at most {MAX_TENANT_TOOLS} tools")
            return repository.upsert(tx, path, base_rev, change=change, event=lambda before, after: DomainEvent(
                "tools.tool_registered", ctx.tenant_id, ctx.env, after.path,
                {"name": name, "version": definition["version"], "rev": after.rev})).after

        doc = self._store.run_transaction(write)
        return tool_view(self._http_spec(name, version), [v["version"] for v in doc.data["versions"]], doc.rev)

    def delete_http_tool(self, ctx: RequestContext, name: str, base_rev: int) -> None:
        self._store.run_transaction(lambda tx: repository.delete(
            tx, paths.tool(ctx.tenant_id, ctx.env, name), base_rev, what="tool",
            event=lambda before: DomainEvent("tools.tool_deleted", ctx.tenant_id, ctx.env, before.path,
                                             {"name": name, "rev": before.rev})))

    # -- tenant HTTP tools as specs ----------------------------------------------------------------
    def _http_spec(self, name: str, d: Mapping[str, Any]) -> ToolSpec:
        url = str(d["url"])
        guard = self._guard

        def call(invocation: ToolInvocation) -> dict[str, Any]:
            answer = guard.post_json(url, {"tool": name, "version": d["version"], "input": dict(invocation.input),
                                           "base_rev": invocation.base_rev})
            return answer if isinstance(answer, dict) else {"result": answer}

        return HttpToolSpec(name, d["version"], d["title"], d["description"], dict(d["input_schema"]),
                        dict(d["output_schema"]), call, danger=d["danger"], side_effects=d["side_effects"],
                        idempotent=bool(d["idempotent"]), required_role=Role(d["required_role"]),
                        licence_required=bool(d["licence_required"]),
                        cost=ToolCost(float(d["cost"]["usd"]), int(d["cost"]["tokens"])),
                        destructive=bool(d.get("destructive", False)), url=url)


def _valid_name(name: str) -> bool:
    from studio.kernel.tools import TOOL_NAME

    return bool(TOOL_NAME.match(name))


def tool_view(spec: ToolSpec, versions: list[str], rev: int | None) -> dict[str, Any]:
    url = spec.url if isinstance(spec, HttpToolSpec) else None
    return {"name": spec.name, "version": spec.version, "title": spec.title, "description": spec.description,
            "input_schema": spec.input_schema(), "output_schema": dict(spec.output_schema), "danger": spec.danger,
            "side_effects": spec.side_effects, "idempotent": spec.idempotent, "destructive": spec.needs_base_rev,
            "required_role": spec.required_role.value, "licence_required": spec.licence_required,
            "cost": {"usd": spec.cost.usd, "tokens": spec.cost.tokens}, "builtin": spec.name in builtin_specs(),
            "url": url, "versions": versions, "rev": rev}

