"""``POST /commands`` and ``GET /commands/types`` over a registry a function wires up.

Idempotent by ``command_id`` (same rules as Idempotency-Key); revisions via ``base_rev``.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from studio.kernel import errors
from studio.kernel.call import Call, Reply, Text
from studio.kernel.command_registry import CommandRegistry
from studio.kernel.idempotency import IdempotencyKeys, StoredResponse
from studio.kernel.model_refs import models
from studio.kernel.problems import PROBLEM_JSON, from_validation_error, problem_body
from studio.kernel.roles import Role
from studio.kernel.routing import Router
from studio.kernel.tx_journal import journaling

if TYPE_CHECKING:
    from studio.kernel import commands as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.kernel.commands")


def command_router(registry: CommandRegistry, described: Callable[[], str] | None = None) -> Router:
    """``described``: ``GET /commands/types``'s body as shipped (JSON text generated from this registry's
    ``describe()``, held to it by a test), so listing the types imports no payload model (decision 0097)."""
    router = Router("commands")

    @router.tenant("GET", "/commands/types", role=Role.VIEWER, response=m.CommandTypes)
    def list_types(call: Call) -> Any:
        """Command types with the JSON Schema of each payload."""
        if described is not None:
            return Text(described(), "application/json")
        return {"types": registry.describe()}

    @router.tenant("POST", "/commands", role=Role.VIEWER, body=m.CommandEnvelope, response=m.CommandResult)
    def submit(call: Call) -> Any:
        """Apply one command; replays the first result for a repeated command_id."""
        from pydantic import ValidationError

        from studio.kernel.commands import CommandResult, EventSummary

        ctx = call.need_ctx()
        env: m.CommandEnvelope = call.body
        kind = registry.get(env.type)
        if env.target.kind != kind.target_kind:
            raise errors.StudioError(errors.VALIDATION_FAILED, f"{env.type} targets a {kind.target_kind}",
                                     errors=[{"field": "body.target.kind", "message": f"must be {kind.target_kind}"}])
        if not ctx.is_system and (ctx.role is None or not ctx.role.at_least(kind.role)):
            raise errors.StudioError(errors.ROLE_INSUFFICIENT, f"{env.type} needs {kind.role.value}")
        try:
            payload = kind.payload.model_validate(env.payload)
        except ValidationError as exc:
            raise from_validation_error(exc, location="body.payload") from None
        keys = IdempotencyKeys(call.deps.store)
        scope = f"commands/{ctx.tenant_id}/{ctx.env}/{ctx.user_id}"
        fingerprint = json.dumps(env.model_dump(mode="json"), sort_keys=True)
        held = keys.begin(scope, env.command_id, fingerprint)
        if isinstance(held, StoredResponse):
            headers = {"Idempotent-Replayed": "true"}
            if held.status >= 400:
                headers["Content-Type"] = PROBLEM_JSON
            return Reply(json.loads(held.body), status=held.status, headers=headers)
        try:
            with journaling(held):  # the command's writes commit with its command_id (tx_journal)
                outcome = kind.handler(call.deps, ctx, env.target.id, env.base_rev, payload)
        except errors.StudioError as err:
            body = problem_body(err, instance=call.request.path, request_id=call.request_id)
            keys.complete(held, StoredResponse(err.status, {}, json.dumps(body)))
            raise
        except BaseException:
            keys.complete(held, StoredResponse(500, {}, ""))
            raise
        result = CommandResult(target=env.target, new_rev=outcome.new_rev,
                               events=[EventSummary.model_validate(e) for e in outcome.events])
        keys.complete(held, StoredResponse(200, {}, result.model_dump_json()))
        return result

    return router
