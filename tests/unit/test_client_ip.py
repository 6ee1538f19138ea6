"""Which address a per-IP limit counts: the peer, unless the runtime sits behind proxies it was
told about, and then only the entry those proxies wrote."""
from __future__ import annotations

import pytest

from studio.kernel.client_ip import client_ip, ip_bucket

LB = "35.191.0.1"


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    for forged in ("1.2.3.4", "1.2.3.4, 5.6.7.8", "garbage"):
        assert client_ip("10.0.0.7", forged, 0) == "10.0.0.7"


def test_behind_googles_load_balancer_the_client_is_the_second_entry_from_the_right() -> None:
    assert client_ip("169.254.1.1", f"198.51.100.7, {LB}", 2) == "198.51.100.7"
    # Whatever the client put in front is its own claim and changes nothing.
    for forged in ("1.1.1.1", "2.2.2.2, 3.3.3.3", "not-an-ip"):
        assert client_ip("169.254.1.1", f"{forged}, 198.51.100.7, {LB}", 2) == "198.51.100.7"


def test_one_trusted_hop_takes_the_last_entry() -> None:
    assert client_ip("10.0.0.2", "6.6.6.6, 198.51.100.9", 1) == "198.51.100.9"


@pytest.mark.parametrize("header", [None, "", "198.51.100.7", "x, y", f"{LB}"])
def test_a_header_the_proxies_did_not_write_falls_back_to_the_peer(header: str | None) -> None:
    assert client_ip("10.0.0.7", header, 2) == "10.0.0.7"


def test_ports_and_brackets_are_stripped_and_garbage_peers_are_dashes() -> None:
    assert client_ip("10.0.0.7", f"198.51.100.7:4711, {LB}", 2) == "198.51.100.7"
    assert client_ip("10.0.0.7", f"[2001:db8::1]:443, {LB}", 2) == "2001:db8::1"
    assert client_ip(None, None, 0) == "-"


def test_ipv6_clients_are_counted_per_64() -> None:
    assert ip_bucket("2001:db8:1:2:aaaa::1") == ip_bucket("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert ip_bucket("2001:db8:1:3::1") != ip_bucket("2001:db8:1:2::1")
    assert ip_bucket("::ffff:198.51.100.7") == "198.51.100.7"
    assert ip_bucket("198.51.100.7") == "198.51.100.7"
