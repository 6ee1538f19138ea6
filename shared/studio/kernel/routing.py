"""Routes are declared, never discovered: each states its access level and role.

Deny by default: a route is public only when declared with ``Router.public``; a
tenant route must name the least role it admits.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from studio.kernel.model_refs import ModelRef, resolve
from studio.kernel.roles import Role

if TYPE_CHECKING:
    from pydantic import BaseModel

    from studio.kernel.call import Call
    from studio.kernel.site_keys import SiteKeyRule

# The current revision of a revisioned route's resource, read before the handler runs so the
# kernel answers 428/412/409 itself: an int (what its ETag carries), or None when it does not
# exist (404). It may refuse a caller who could not write it anyway (e.g. 403), so a stale
# precondition never outranks a refusal.
RevisionResolver = Callable[["Call"], "int | None"]


class Access(StrEnum):
    PUBLIC = "public"  # no token
    USER = "user"  # verified token, no tenant (e.g. /auth/me, /auth/bootstrap)
    TENANT = "tenant"  # verified token + X-Tenant-Id/X-Env + membership with at least `role`
    SITE_KEY = "site_key"  # no token: a public key of the route's scope names the tenant (kernel/site_keys.py)


_PARAM = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Callable[..., Any]
    access: Access
    role: Role | None = None
    # pydantic models, or ModelRefs the kernel imports on first use (kernel/model_refs.py): read them
    # through body_model / query_model / response_model
    body: type[BaseModel] | ModelRef | None = None
    query: type[BaseModel] | ModelRef | None = None
    response: type[BaseModel] | ModelRef | None = None
    status: int = 200
    summary: str = ""
    tag: str = ""
    revisioned: bool = False  # a write that needs If-Match or base_rev, checked by the kernel
    current_rev: RevisionResolver | None = None  # required when revisioned
    system_only: bool = False
    idempotent: bool = True  # False: Idempotency-Key is ignored (responses carrying credentials are never stored)
    # A POST that answers a query (OFREP's bulk evaluation): If-None-Match is evaluated as for a GET (304)
    conditional_read: bool = False
    # Body media types taken as JSON: ("application/json", "text/plain") for navigator.sendBeacon bodies,
    # which browsers send as text/plain to stay a CORS "simple" request.
    body_media_types: tuple[str, ...] = ("application/json",)
    # The handler reads the body itself (a multipart upload). Otherwise a route without ``body`` refuses
    # any body but {} (BODY_NOT_EXPECTED): a field the route ignores would be a silent success.
    reads_body: bool = False
    site_key: SiteKeyRule | None = None  # required by (and only for) Access.SITE_KEY
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.access is Access.TENANT and self.role is None:
            raise ValueError(f"{self.method} {self.path}: a tenant route must declare its role")
        if (self.access is Access.SITE_KEY) != (self.site_key is not None):
            raise ValueError(f"{self.method} {self.path}: a site-key route, and only one, declares site_key=")
        _check_revisioned(self)
        regex = "^" + _PARAM.sub(lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(self.path).replace(r"\{", "{").replace(r"\}", "}")) + "$"
        object.__setattr__(self, "pattern", re.compile(regex))

    @property
    def body_model(self) -> type[BaseModel] | None:
        if isinstance(self.body, ModelRef):
            _check_base_rev(self)  # deferred from declaration: the models are imported now
        return resolve(self.body)

    @property
    def query_model(self) -> type[BaseModel] | None:
        if isinstance(self.query, ModelRef):
            _check_base_rev(self)
        return resolve(self.query)

    @property
    def response_model(self) -> type[BaseModel] | None:
        return resolve(self.response)

    @property
    def params(self) -> list[str]:
        return _PARAM.findall(self.path)

    def match(self, path: str) -> dict[str, str] | None:
        m = self.pattern.match(path)
        return None if m is None else m.groupdict()


class Router:
    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.routes: list[Route] = []

    def _add(self, method: str, path: str, access: Access, **kw: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            summary = kw.pop("summary", None) or (fn.__doc__ or "").strip().split("\n")[0]
            self.routes.append(Route(method.upper(), path, fn, access, summary=summary, tag=self.tag, **kw))
            return fn

        return decorate

    def public(self, method: str, path: str, **kw: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._add(method, path, Access.PUBLIC, **kw)

    def user(self, method: str, path: str, **kw: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._add(method, path, Access.USER, **kw)

    def tenant(self, method: str, path: str, *, role: Role, **kw: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._add(method, path, Access.TENANT, role=role, **kw)

    def site_key(self, method: str, path: str, *, rule: SiteKeyRule,
                 **kw: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._add(method, path, Access.SITE_KEY, site_key=rule, **kw)


class RouteTable:
    """All routes of one function, matched in declaration order."""

    def __init__(self, routers: Iterable[Router]) -> None:
        self.routes: list[Route] = [r for router in routers for r in router.routes]
        seen: set[tuple[str, str]] = set()
        for r in self.routes:
            key = (r.method, r.path)
            if key in seen:
                raise ValueError(f"route declared twice: {r.method} {r.path}")
            seen.add(key)

    def routes_as_routers(self) -> list[Router]:
        router = Router("")
        router.routes = list(self.routes)
        return [router]

    def resolve(self, method: str, path: str) -> tuple[Route | None, dict[str, str], Sequence[str]]:
        """(route, params, allowed methods when only the method is wrong)."""
        allowed: list[str] = []
        for route in self.routes:
            params = route.match(path)
            if params is None:
                continue
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route, params, ()
            allowed.append(route.method)
        if "GET" in allowed:  # RFC 9110 9.3.2: HEAD is served wherever GET is
            allowed.append("HEAD")
        return None, {}, allowed


def _check_revisioned(route: Route) -> None:
    """Refuse at declaration a revisioned route the kernel could not check."""
    where = f"{route.method} {route.path}"
    if route.revisioned and route.current_rev is None:
        raise ValueError(f"{where}: a revisioned route must declare current_rev= (its resource's revision)")
    if route.current_rev is not None and not route.revisioned:
        raise ValueError(f"{where}: current_rev= is only for revisioned routes")
    if not isinstance(route.body, ModelRef) and not isinstance(route.query, ModelRef):
        _check_base_rev(route)  # else when its models are first imported (Route.body_model, query_model)


def _check_base_rev(route: Route) -> None:
    models = (resolve(route.body), resolve(route.query))
    if route.revisioned and not any("base_rev" in getattr(m, "model_fields", {}) for m in models):
        raise ValueError(f"{route.method} {route.path}: a revisioned route takes base_rev in its body or query model "
                         "(kernel.api_model.RevisionQuery for a route without a body)")
