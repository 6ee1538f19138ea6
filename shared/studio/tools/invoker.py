"""THE invoke path (issue 9, item 2): every tool call, from the HTTP API, an MCP client or an agent in
chat, runs through ``ToolInvoker.invoke`` and nothing else, in this order:

    resolve -> input schema -> kill switch -> strategy lock -> role -> licence -> (idempotent replay)
    -> budget reservation -> policy filter on the input -> execute -> output schema
    -> policy filter on the output -> usage settled -> audit DatasetEvent

A refusal raises its own problem code and releases what was reserved; refusals are audited too. The
gates belong to governance, the policy filter to privacy: this module only calls them, in order.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from studio.governance.gates import GateRequest, Reservation, Subject
from studio.kernel import errors, logs, tx_journal
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.deps import Deps
from studio.kernel.tools import ToolInvocation, ToolSpec
from studio.ports.store import DocumentStore
from studio.tools import keyed_calls, paths
from studio.tools.catalog import ToolCatalog
from studio.tools.errors import (
    IDEMPOTENCY_KEY_REQUIRED,
    TOOL_FAILED,
    TOOL_INPUT_INVALID,
    TOOL_OUTPUT_INVALID,
)

if TYPE_CHECKING:
    from studio.events.logger import DatasetEventLogger

_log = logs.get("studio.tools")
MAX_ERRORS = 10


class Gates(Protocol):
    """governance.gates.ToolGates, as the invoke path uses it."""

    def check_kill_switch(self, req: GateRequest) -> None: ...
    def check_strategy_lock(self, req: GateRequest) -> None: ...
    def check_licence(self, req: GateRequest) -> None: ...
    def reserve(self, req: GateRequest) -> Reservation: ...
    def settle(self, reservation: Reservation, usd: float, tokens: int) -> None: ...
    def release(self, reservation: Reservation) -> None: ...


class Policy(Protocol):
    """privacy.policy_filter.PolicyFilter, as the invoke path uses it."""

    def apply(self, tenant_id: str, env: str, value: Any, *, where: str) -> Any: ...


@dataclass(frozen=True)
class Invocation:
    """What a transport asks for: who, which tool, with what."""

    ctx: RequestContext  # tenant, env and the principal the tool acts as
    subject: Subject  # who the gates judge: the user, the agent or the API client
    ref: str  # name or name@version
    input: Mapping[str, Any]
    base_rev: int | None = None
    idempotency_key: str | None = None
    agent_id: str | None = None


def validate(schema: Mapping[str, Any], value: Any, code: errors.ErrorCode, what: str) -> None:
    from jsonschema import Draft202012Validator

    found = sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: list(e.absolute_path))
    if found:
        # In our words: where and which keyword failed, never jsonschema's text (it quotes the value).
        detail = [{"loc": [what, *[str(p) for p in e.absolute_path]], "msg": f"fails the schema's {e.validator!s}",
                   "type": str(e.validator)} for e in found[:MAX_ERRORS]]
        where = "/".join(detail[0]["loc"][1:]) or "(root)"
        raise errors.StudioError(code, f"{what} does not match the tool's schema at {where} ({found[0].validator!s})",
                                 errors=detail)


class ToolInvoker:
    def __init__(self, deps: Deps, catalog: ToolCatalog, gates: Gates, policy: Policy, audit: DatasetEventLogger,
                 store: DocumentStore) -> None:
        self._deps = deps
        self._catalog = catalog
        self._gates = gates
        self._policy = policy
        self._audit = audit
        self._store = store

    def invoke(self, call: Invocation) -> dict[str, Any]:
        """Run ``call`` through every gate; returns {tool, version, output, usage, audit_id, replayed}."""
        ctx, subject = call.ctx, call.subject
        spec = self._catalog.resolve(ctx, call.ref)
        req = GateRequest(ctx.tenant_id, ctx.env, subject, "tool.invoke", tool=spec.name, tool_version=spec.version,
                          danger=spec.danger, side_effects=spec.side_effects, licence_required=spec.licence_required,
                          agent_id=call.agent_id, estimate_usd=spec.cost.usd, estimate_tokens=spec.cost.tokens)
        started = time.perf_counter()
        try:
            self._admit(spec, req, call)
        except errors.StudioError as exc:
            self._audit_refusal(call, spec, exc, started)
            raise
        stored = self._replay(spec, call)
        if stored is not None:
            return dict(stored, replayed=True)
        path = self._key_path(spec, call)
        if path is not None and call.idempotency_key and tx_journal.active() is None:
            # No Idempotency-Key request holds this call (MCP, an agent's turn): hold its key the same way,
            # so the effect commits with the key and no retry, concurrent or after a crash, acts twice.
            return keyed_calls.once(self._store, "tools/" + path, call.idempotency_key,
                                    self._fingerprint(spec, call), lambda: self._execute(spec, req, call, started))
        return self._execute(spec, req, call, started)

    def _execute(self, spec: ToolSpec, req: GateRequest, call: Invocation, started: float) -> dict[str, Any]:
        """Reserve, run, settle, audit, remember: the call itself, once admitted and not a replay."""
        try:
            reservation = self._gates.reserve(req)
        except errors.StudioError as exc:  # BUDGET_EXCEEDED
            self._audit_refusal(call, spec, exc, started)
            raise
        try:
            result = self._run(spec, call, started)
        except BaseException as exc:  # nothing ran to the end: what was held goes back
            self._gates.release(reservation)
            if isinstance(exc, errors.StudioError):
                self._audit_refusal(call, spec, exc, started)
            raise
        self._gates.settle(reservation, spec.cost.usd, spec.cost.tokens)
        result["audit_id"] = self._audit_call(call, spec, result, "complete")
        self._remember(spec, call, result)
        return result

    def _admit(self, spec: ToolSpec, req: GateRequest, call: Invocation) -> None:
        """The checks before anything is reserved or run, in the issue's order."""
        validate(spec.input_schema(), dict(call.input), TOOL_INPUT_INVALID, "input")
        if spec.needs_base_rev and call.base_rev is None:
            raise errors.StudioError(errors.PRECONDITION_REQUIRED,
                                     f"{spec.name} is destructive: send the base_rev of what it acts on")
        if spec.needs_idempotency_key and not call.idempotency_key:
            raise errors.StudioError(IDEMPOTENCY_KEY_REQUIRED, f"{spec.name} is not idempotent: send an Idempotency-Key")
        self._gates.check_kill_switch(req)
        self._gates.check_strategy_lock(req)
        if not call.subject.role.at_least(spec.required_role):
            raise errors.StudioError(errors.ROLE_INSUFFICIENT,
                                     f"{spec.name} needs role {spec.required_role.value}, the caller is {call.subject.role.value}")
        self._gates.check_licence(req)

    def _run(self, spec: ToolSpec, call: Invocation, started: float) -> dict[str, Any]:
        ctx = call.ctx
        tool_input = self._policy.apply(ctx.tenant_id, ctx.env, dict(call.input), where="tool.input")
        invocation = ToolInvocation(self._deps, ctx, call.subject.kind, call.subject.id, spec.name, spec.version,
                                    tool_input, call.base_rev, call.idempotency_key)
        try:
            output = spec.handler(invocation)
        except errors.StudioError:
            raise
        except Exception as exc:  # the tool's own failure, reported without its internals
            _log.exception("tool failed", extra={"fields": {"tool": spec.name, "version": spec.version}})
            raise errors.StudioError(TOOL_FAILED, f"{spec.name} failed ({type(exc).__name__})") from exc
        if not isinstance(output, dict):
            raise errors.StudioError(TOOL_OUTPUT_INVALID, f"{spec.name} returned {type(output).__name__}, not an object")
        validate(spec.output_schema, output, TOOL_OUTPUT_INVALID, "output")
        output = self._policy.apply(ctx.tenant_id, ctx.env, output, where="tool.output")
        duration_ms = int((time.perf_counter() - started) * 1000)
        return {"tool": spec.name, "version": spec.version, "output": output,
                "usage": {"usd": spec.cost.usd, "tokens": spec.cost.tokens, "duration_ms": duration_ms},
                "audit_id": "", "replayed": False}

    # -- idempotency -------------------------------------------------------------------------------
    def _key_path(self, spec: ToolSpec, call: Invocation) -> str | None:
        if spec.idempotent or not call.idempotency_key:
            return None
        scope = f"{call.subject.kind}:{call.subject.id}:{spec.name}:{call.idempotency_key}"
        return paths.invocation(call.ctx.tenant_id, call.ctx.env, hashlib.sha256(scope.encode()).hexdigest()[:40])

    def _fingerprint(self, spec: ToolSpec, call: Invocation) -> str:
        body = json.dumps([spec.version, dict(call.input), call.base_rev], sort_keys=True, default=str)
        return hashlib.sha256(body.encode()).hexdigest()

    def _replay(self, spec: ToolSpec, call: Invocation) -> dict[str, Any] | None:
        path = self._key_path(spec, call)
        doc = self._store.get(path) if path else None
        if doc is None:
            return None
        if doc.data["fingerprint"] != self._fingerprint(spec, call):
            raise errors.StudioError(errors.IDEMPOTENCY_KEY_REUSED, "this Idempotency-Key was used with another input")
        return dict(doc.data["result"])

    def _remember(self, spec: ToolSpec, call: Invocation, result: dict[str, Any]) -> None:
        path = self._key_path(spec, call)
        if path:
            self._store.put(path, {"fingerprint": self._fingerprint(spec, call), "result": result, "at": utc_now()})

    # -- audit -------------------------------------------------------------------------------------
    def _audit_call(self, call: Invocation, spec: ToolSpec, result: Mapping[str, Any], status: str,
                    code: str | None = None) -> str:
        subject = call.subject
        metadata: dict[str, Any] = {"tool": spec.name, "version": spec.version, "status": status,
                                    "subject_kind": subject.kind, "subject_id": subject.id[:128],
                                    "danger": spec.danger, "side_effects": spec.side_effects}
        if code:
            metadata["code"] = code
        usage = result.get("usage") or {}
        metadata.update({"usd": usage.get("usd", 0.0), "tokens": usage.get("tokens", 0)})
        from studio.events.models import DatasetEventIn  # pydantic: on the first audited call (decision 0097)

        event = DatasetEventIn(surface="tool", agent_id=call.agent_id or subject.kind, input=_json(call.input),
                               output=_json(result.get("output")), metadata=metadata,
                               latency_ms=int(usage.get("duration_ms", 0)), tags=["tool", status])
        return self._audit.log(call.ctx, event)

    def _audit_refusal(self, call: Invocation, spec: ToolSpec, exc: errors.StudioError, started: float) -> None:
        try:
            usage = {"usd": 0.0, "tokens": 0, "duration_ms": int((time.perf_counter() - started) * 1000)}
            # The refused input is not recorded: it may be what the policy filter blocked.
            self._audit_call(Invocation(call.ctx, call.subject, call.ref, {}, agent_id=call.agent_id), spec,
                             {"usage": usage, "output": None}, "refused", exc.code.code)
        except errors.StudioError:  # the refusal stands even when its audit record cannot be written
            _log.warning("tool refusal not audited", extra={"fields": {"tool": spec.name, "code": exc.code.code}})


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str)) if value is not None else None
