"""The SSRF guard of tenant HTTP tools (studio/tools/ssrf.py): which addresses pass, that every address a
name resolves to is checked, and that the connection goes to the address that was checked (a resolver
that answers differently the second time cannot redirect the call)."""
from __future__ import annotations

import pytest

from studio.kernel.errors import StudioError
from studio.tools.ssrf import UrlGuard
from tests.support.tool_world import ALLOWED_HOST, start_tool_server


def _resolver(table: dict[str, list[str]]):  # noqa: ANN202 - a Resolver
    return lambda host, port: table[host]


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fd00:ec2::254", "::ffff:10.0.0.1",
                                     "224.0.0.1", "240.0.0.1"])
def test_non_public_addresses_are_refused(address: str) -> None:
    guard = UrlGuard(resolver=_resolver({"tool.example": [address]}))
    with pytest.raises(StudioError) as err:
        guard.check("https://tool.example/run")
    assert err.value.code.code == "TOOL_URL_REFUSED"


def test_one_bad_address_among_good_ones_is_enough_to_refuse() -> None:
    guard = UrlGuard(resolver=_resolver({"tool.example": ["93.184.215.14", "127.0.0.1"]}))
    with pytest.raises(StudioError):
        guard.check("https://tool.example/run")


def test_a_public_https_address_passes_and_plain_http_does_not() -> None:
    guard = UrlGuard(resolver=_resolver({"tool.example": ["93.184.215.14"]}))
    target = guard.check("https://tool.example:8443/run?q=1")
    assert (target.host, target.port, target.path, target.address) == ("tool.example", 8443, "/run?q=1", "93.184.215.14")
    with pytest.raises(StudioError):
        guard.check("http://tool.example/run")


def test_the_allow_list_admits_a_cidr_or_an_exact_host() -> None:
    table = {"internal.example": ["10.2.3.4"], "other.example": ["10.9.9.9"]}
    assert UrlGuard(["10.2.0.0/16"], _resolver(table)).check("https://internal.example/").address == "10.2.3.4"
    assert UrlGuard(["internal.example"], _resolver(table)).check("http://internal.example/").address == "10.2.3.4"
    with pytest.raises(StudioError):
        UrlGuard(["10.2.0.0/16"], _resolver(table)).check("https://other.example/")


def test_the_connection_is_pinned_to_the_checked_address() -> None:
    server = start_tool_server()
    answers = iter([[ALLOWED_HOST], ["127.0.0.1"]])  # a rebinding resolver: the second answer would be refused
    guard = UrlGuard([f"{ALLOWED_HOST}/32"], lambda host, port: next(answers))
    try:
        out = guard.post_json(f"http://tools.example.test:{server.server.server_port}/echo", {"input": {"a": 1}})
    finally:
        server.server.shutdown()
    assert out == {"ok": True, "echo": {"a": 1}}
    assert server.seen[-1]["host"] == f"tools.example.test:{server.server.server_port}"  # Host kept, IP pinned
