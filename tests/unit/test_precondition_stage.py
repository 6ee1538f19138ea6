"""The kernel decides a revisioned write's precondition before the handler runs, and refuses at
declaration a revisioned route it could not check. The pipeline here is the real HttpApp; only the
route is the test's own, so the handler can count the times it was reached."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel
from werkzeug.test import Client
from werkzeug.wrappers import Request

from studio.kernel.api_model import RevisionQuery
from studio.kernel.call import Call
from studio.kernel.http_app import HttpApp
from studio.kernel.ratelimit import RateLimiter
from studio.kernel.routing import Access, Route, Router


class Rename(BaseModel):
    name: str
    base_rev: int | None = None


@dataclass
class Deps:
    rate_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(0))
    settings: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(cors_origins=(), trusted_proxy_hops=0))  # CORS, client ip


@dataclass
class Thing:
    rev: int = 3
    exists: bool = True
    handled: list[int] = field(default_factory=list)


@pytest.fixture()
def thing() -> Thing:
    return Thing()


@pytest.fixture()
def client(thing: Thing) -> Client:
    router = Router("things")
    deps = Deps()

    def current_rev(call: Call) -> int | None:
        return thing.rev if thing.exists else None

    @router.public("PATCH", "/things/{id}", body=Rename, revisioned=True, current_rev=current_rev)
    def patch(call: Call) -> Any:
        thing.handled.append(call.expected_rev())
        thing.rev += 1
        return {"rev": thing.rev}

    @router.public("DELETE", "/things/{id}", query=RevisionQuery, revisioned=True, current_rev=current_rev)
    def delete(call: Call) -> Any:
        thing.handled.append(call.expected_rev())
        return None

    app = HttpApp("things", [router], lambda: deps)
    return Client(lambda environ, start_response: app(Request(environ))(environ, start_response))


@pytest.mark.parametrize(("kwargs", "status", "code"), [
    ({"json": {"name": "x"}}, 428, "PRECONDITION_REQUIRED"),
    ({"json": {"name": "x"}, "headers": {"If-Match": '"2"'}}, 412, "REVISION_CONFLICT"),
    ({"json": {"name": "x"}, "headers": {"If-Match": 'W/"3"'}}, 412, "REVISION_CONFLICT"),
    ({"json": {"name": "x", "base_rev": 2}}, 409, "REVISION_CONFLICT"),
    ({"json": {"name": "x", "base_rev": 3}, "headers": {"If-Match": '"2"'}}, 412, "REVISION_CONFLICT"),
    ({"json": {"name": "x", "base_rev": 2}, "headers": {"If-Match": '"3"'}}, 409, "REVISION_CONFLICT"),
    ({"json": {"name": "x"}, "headers": {"If-Match": "3"}}, 400, "INVALID_PRECONDITION"),
])
def test_the_handler_is_not_reached_when_the_precondition_fails(client: Client, thing: Thing, kwargs: dict[str, Any],
                                                                status: int, code: str) -> None:
    r = client.patch("/things/a", **kwargs)
    assert (r.status_code, r.json["code"]) == (status, code)
    if code == "REVISION_CONFLICT":
        assert r.json["current_rev"] == 3
    assert thing.handled == []


def test_a_missing_resource_is_404_before_any_precondition_is_evaluated(client: Client, thing: Thing) -> None:
    thing.exists = False
    r = client.patch("/things/a", json={"name": "x"}, headers={"If-Match": "*"})
    assert (r.status_code, r.json["code"]) == (404, "NOT_FOUND")
    assert thing.handled == []


@pytest.mark.parametrize("if_match", ['"3"', "*", '"1", "3"', 'W/"3", "3"'])
def test_the_handler_writes_with_the_revision_the_kernel_verified(client: Client, thing: Thing, if_match: str) -> None:
    r = client.patch("/things/a", json={"name": "x"}, headers={"If-Match": if_match})
    assert r.status_code == 200 and r.headers["ETag"] == '"4"'
    assert thing.handled == [3]


def test_a_delete_takes_base_rev_in_its_query(client: Client, thing: Thing) -> None:
    assert client.delete("/things/a").status_code == 428
    stale = client.delete("/things/a?base_rev=2")
    assert (stale.status_code, stale.json["current_rev"]) == (409, 3)
    assert client.delete("/things/a?base_rev=3").status_code == 204
    assert thing.handled == [3]


def _handler(call: Call) -> Any:
    return None


def test_a_revisioned_route_without_a_resolver_is_refused_at_declaration() -> None:
    with pytest.raises(ValueError, match="current_rev"):
        Route("PATCH", "/things/{id}", _handler, Access.PUBLIC, body=Rename, revisioned=True)


def test_a_revisioned_route_without_base_rev_is_refused_at_declaration() -> None:
    with pytest.raises(ValueError, match="base_rev"):
        Route("DELETE", "/things/{id}", _handler, Access.PUBLIC, revisioned=True, current_rev=lambda call: 1)


def test_a_resolver_on_a_route_that_is_not_revisioned_is_refused() -> None:
    with pytest.raises(ValueError, match="only for revisioned"):
        Route("POST", "/things", _handler, Access.PUBLIC, body=Rename, current_rev=lambda call: 1)
