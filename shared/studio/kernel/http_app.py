"""The HTTP pipeline every function runs: one place for the contract of BLUEPRINT section 3.

request id -> route -> auth -> tenant + role -> rate limit -> validation -> idempotency
-> handler -> ETag/problem+json -> one structured log line.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Request, Response

from studio.kernel import access, cors, crash_hold, errors, logs, preconditions, site_keys
from studio.kernel.call import Call, Reply, Text
from studio.kernel.client_ip import ip_bucket, request_client_ip
from studio.kernel.context import Principal, RequestContext, normalise_env
from studio.kernel.deps import Deps
from studio.kernel.idempotency import IdempotencyKeys, StoredResponse, request_fingerprint
from studio.kernel.json_input import finite_only, parse_json
from studio.kernel.problems import from_validation_error, problem_response
from studio.kernel.revisions import etag
from studio.kernel.routing import Access, Route, Router, RouteTable
from studio.kernel.tx_journal import journaling

MAX_BODY_BYTES = 1 << 20
_log = logs.get("studio.http")


class HttpApp:
    """One per function. Cold start: the routers (and the models and clients they import) load on
    the first request that needs them, and ``deps_factory`` builds adapters on first use; the
    health route answers before either."""

    def __init__(self, name: str, routers: Iterable[Router] | Callable[[], Iterable[Router]],
                 deps_factory: Callable[[], Deps]) -> None:
        self.name = name
        self._routers = routers
        self._table: RouteTable | None = None
        self._health = RouteTable([_health_router(name)])
        self._deps_factory = deps_factory

    @property
    def table(self) -> RouteTable:
        if self._table is None:
            routers = self._routers() if callable(self._routers) else self._routers
            self._table = RouteTable([*routers, *self._health.routes_as_routers()])
        return self._table

    @property
    def deps(self) -> Deps:
        # The factory caches per instance; asking each time lets a runtime swap settings.
        logs.configure()
        return self._deps_factory()

    def __call__(self, request: Request) -> Response:
        started = time.perf_counter()
        request_id = logs.new_request_id(request.headers.get("X-Request-Id"))
        token = logs.request_id_var.set(request_id)
        trace_token = logs.trace_var.set(request.headers.get("X-Cloud-Trace-Context", "").split("/")[0])
        call: Call | None = None
        try:
            allowed = cors.policy(self.deps.settings.cors_origins)
            try:
                origin, asked = request.headers.get("Origin"), request.headers.get("Access-Control-Request-Method")
                preflight = cors.is_preflight(request.method, origin, asked)
                ip_charged = False
                if origin:  # only a browser's request needs a site key's own origins (kernel/site_keys.py)
                    route_policy, ip_charged = self._route_cors(
                        request, (asked or "").upper() if preflight else request.method)
                    allowed = route_policy or allowed
                if preflight:  # before routing: every path
                    response = Response(status=204, headers=cors.preflight(allowed, origin, asked))
                else:
                    call = self._prepare(request, request_id, ip_charged=ip_charged)
                    response = self._run(call)
            except errors.StudioError as err:
                if isinstance(err, errors.RevisionConflict) and call is not None and call.precondition:
                    err.status = call.precondition.conflict_status
                response = problem_response(err, instance=request.path, request_id=request_id)
            except ClientDisconnected:  # gone mid-body: nginx's 499, logged as the client's doing, not ours
                _log.info("client closed the request", extra={"fields": {"path": request.path}})
                response = problem_response(errors.StudioError(
                    errors.BAD_REQUEST, "the client closed the connection before its body arrived", status=499),
                    instance=request.path, request_id=request_id)
            except Exception:  # noqa: BLE001 - the edge: anything unexpected is logged and answered as problem+json
                _log.exception("unhandled error", extra={"fields": {"path": request.path}})
                response = problem_response(errors.StudioError(errors.INTERNAL), instance=request.path,
                                            request_id=request_id)
            response.headers["X-Request-Id"] = request_id
            cors.add_response_headers(allowed, request.headers.get("Origin"), response.headers)
            self._log(request, response, started, call)
            return response
        finally:
            logs.request_id_var.reset(token)
            logs.trace_var.reset(trace_token)

    def _route_cors(self, request: Request, method: str) -> tuple[cors.CorsPolicy | None, bool]:
        """The policy of a site-key route whose key has its own origins (its rule's hook), else None;
        and whether this request was charged to its client's per-IP limit on the way."""
        route, params, _ = self.table.resolve(method, request.path)
        if route is None or route.site_key is None or route.site_key.origins is None:
            return None, False
        # the per-IP limit before the key's store read, as in _prepare: an Origin header (or a
        # preflight) must not buy a client unthrottled key guesses. A site-key route is anonymous,
        # so its rate key is always the client's IP bucket; a limited client gets the usual 429.
        self.deps.rate_limiter.check(_ip_rate_key(request, self.deps))
        try:
            patterns = site_keys.preflight_origins(self.deps, request, params, route.site_key)
            return (None if patterns is None else cors.policy(patterns)), True
        except ValueError:  # a stale pattern: the platform's policy
            return None, True

    # -- stages ------------------------------------------------------------
    def _prepare(self, request: Request, request_id: str, *, ip_charged: bool = False) -> Call:
        route, params, allowed = self._health.resolve(request.method, request.path)
        if route is None:
            route, params, allowed = self.table.resolve(request.method, request.path)
        if route is None:
            if allowed:
                raise errors.StudioError(errors.METHOD_NOT_ALLOWED, headers={"Allow": ", ".join(allowed)})
            raise errors.StudioError(errors.ROUTE_NOT_FOUND, f"no route for {request.path}")
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            raise errors.StudioError(errors.PAYLOAD_TOO_LARGE)
        call = Call(request, route, params, request_id, self.deps)
        if route.access not in (Access.PUBLIC, Access.SITE_KEY):
            call.principal = self._authenticate(request)
            if route.system_only and not call.principal.is_system:
                raise errors.StudioError(errors.FORBIDDEN, "only service identities may call this route")
        if route.access is Access.TENANT:
            call.ctx = self._tenant_context(request, route, params, call.need_principal())
        # the per-IP limit first: a client guessing site keys is throttled before each guess reads the store
        # (_route_cors already charged a browser's site-key request: one request, one token)
        if not (ip_charged and route.site_key is not None):
            self.deps.rate_limiter.check(_rate_key(call, request))
        if route.site_key is not None:
            call.site_key = site_keys.admit(self.deps, request, params, route.site_key)
        call.query = _validate_query(route, request)
        call.body = _validate_body(route, request)
        _check_tenant_fields(call)
        preconditions.check(call)
        return call

    def _authenticate(self, request: Request) -> Principal:
        return access.authenticate(self.deps, request.headers.get("Authorization"),
                                   request.environ.get(access.VERIFIED_PRINCIPAL))

    def _tenant_context(self, request: Request, route: Route, params: dict[str, str],
                        principal: Principal) -> RequestContext:
        tenant_id, env = access.tenant_of(request.headers.get("X-Tenant-Id"), request.headers.get("X-Env"))
        if "tenant_id" in params and params["tenant_id"] != tenant_id:
            raise errors.StudioError(errors.TENANT_MISMATCH, "path tenant differs from X-Tenant-Id")
        assert route.role is not None
        return access.tenant_context(self.deps, principal, tenant_id, env, route.role)

    def _run(self, call: Call) -> Response:
        key = call.request.headers.get("Idempotency-Key")
        if call.request.method != "POST" or key is None or not call.route.idempotent:
            return self._invoke(call)
        keys = IdempotencyKeys(self.deps.store)
        held = keys.begin(_idempotency_scope(call), key,
                          request_fingerprint("POST", call.request.path, call.request.get_data()))
        if isinstance(held, StoredResponse):
            resp = Response(held.body, status=held.status, headers=held.headers)
            resp.headers["Idempotent-Replayed"] = "true"
            return resp
        try:
            with journaling(held):  # the handler's store transactions commit with the key (tx_journal)
                response = self._invoke(call)
            crash_hold.before_reply(key)  # a crash test's kill point; nothing unless the test asks
        except errors.StudioError as err:
            response = problem_response(err, instance=call.request.path, request_id=call.request_id)
        except BaseException:
            keys.complete(held, StoredResponse(500, {}, ""))
            raise
        keep = {k: v for k, v in response.headers.items() if k in ("Content-Type", "ETag", "Location")}
        keys.complete(held, StoredResponse(response.status_code, keep, response.get_data(as_text=True)))
        if held.replayed:  # rebuilt from what a crashed attempt committed
            response.headers["Idempotent-Replayed"] = "true"
        return response

    def _invoke(self, call: Call) -> Response:
        result = call.route.handler(call)
        reply = result if isinstance(result, Reply) else Reply(result)
        status = reply.status or call.route.status
        if reply.body is None:
            response = Response(status=204 if status == 200 else status)
        elif isinstance(reply.body, Text):
            response = Response(reply.body.content, status=status, content_type=reply.body.content_type)
        else:
            dump = getattr(reply.body, "model_dump", None)  # a pydantic model, without importing pydantic
            payload = dump(mode="json", by_alias=True) if dump is not None else reply.body
            response = Response(_dump_json(payload), status=status, content_type="application/json")
            if isinstance(payload, dict) and isinstance(payload.get("rev"), int):
                response.headers["ETag"] = etag(payload["rev"])
        for name, value in reply.headers.items():
            response.headers[name] = value
        return preconditions.not_modified(call, response)

    def _log(self, request: Request, response: Response, started: float, call: Call | None) -> None:
        log_access(self.name, request.method, request.path, response.status_code, started,
                   request.user_agent.string, call.ctx if call is not None else None)


def log_access(function: str, method: str, path: str, status: int, started: float, user_agent: str,
               ctx: RequestContext | None) -> None:
    """The one access log line of a request (the realtime gateway writes it for what it refuses itself)."""
    fields: dict[str, Any] = {
        "httpRequest": {
            "requestMethod": method, "requestUrl": path, "status": status,
            "latency": f"{time.perf_counter() - started:.6f}s", "userAgent": user_agent,
        },
        "function": function,
    }
    if ctx is not None:
        fields.update(tenant_id=ctx.tenant_id, env=ctx.env, user_id=ctx.user_id)
    level = 40 if status >= 500 else 20
    _log.log(level, "%s %s %s", method, path, status, extra={"fields": fields})


def _dump_json(payload: Any) -> str:
    try:
        return json.dumps(payload, default=str, allow_nan=False)
    except ValueError:  # NaN read back from data stored before the boundary refused it: JSON says null
        return json.dumps(finite_only(payload), default=str)


def _health_router(name: str) -> Router:
    router = Router("health")

    @router.public("GET", f"/healthz/{name}")
    def healthz(call: Call) -> Any:
        """Liveness of this function."""
        return {"status": "ok", "function": name}

    healthz.__name__ = f"healthz_{name}"  # its operationId: one per function

    return router


def _rate_key(call: Call, request: Request) -> str:
    if call.ctx is not None:
        return "tenant:" + call.ctx.tenant_id
    if call.principal is not None:
        return "user:" + call.principal.user_id
    return _ip_rate_key(request, call.deps)


def _ip_rate_key(request: Request, deps: Deps) -> str:
    return "ip:" + ip_bucket(request_client_ip(request, deps.settings.trusted_proxy_hops))


def _idempotency_scope(call: Call) -> str:
    if call.ctx is not None:
        return f"{call.ctx.tenant_id}/{call.ctx.env}/{call.ctx.user_id}"
    if call.principal is not None:
        return "user/" + call.principal.user_id
    if call.site_key is not None:
        return f"site_key/{call.site_key.tenant_id}/{call.site_key.env}/{call.site_key.key_id}"
    return "public"


def _validate_query(route: Route, request: Request) -> Any:
    model = route.query_model
    if model is None:
        return None
    from pydantic import ValidationError

    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise from_validation_error(exc, location="query") from None


_NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _validate_body(route: Route, request: Request) -> Any:
    model = route.body_model
    if model is None:
        _refuse_unexpected_body(route, request)
        return None
    raw = request.get_data(cache=True)
    if not raw.strip():
        data: Any = {}
    else:
        if request.mimetype not in route.body_media_types:
            raise errors.StudioError(errors.UNSUPPORTED_MEDIA_TYPE)
        data = parse_json(raw)  # finite numbers, bounded depth: INVALID_JSON / JSON_TOO_DEEP
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, location="body") from None


def _refuse_unexpected_body(route: Route, request: Request) -> None:
    """A write without a body model takes nothing, or ``{}``: anything else (``{"reason": ...}`` on a
    cancel, another id, NaN) would be ignored and the write done anyway."""
    if route.reads_body or request.method in _NO_BODY_METHODS:
        return
    raw = request.get_data(cache=True)
    if not raw.strip():
        return
    if request.mimetype in route.body_media_types and parse_json(raw) == {}:  # INVALID_JSON / JSON_TOO_DEEP first
        return
    raise errors.StudioError(errors.BODY_NOT_EXPECTED)


def _check_tenant_fields(call: Call) -> None:
    """Body or query tenant/env fields must agree with the verified context."""
    if call.ctx is None:
        return
    for part in (call.body, call.query):
        if part is None:
            continue
        for name in ("tenant_id", "tenantId"):
            value = getattr(part, name, None)
            if value is not None and value != call.ctx.tenant_id:
                raise errors.StudioError(errors.TENANT_MISMATCH, f"{name} differs from X-Tenant-Id")
        env = getattr(part, "env", None)
        if env is not None and normalise_env(env) != call.ctx.env:
            raise errors.StudioError(errors.TENANT_MISMATCH, "env differs from X-Env")
