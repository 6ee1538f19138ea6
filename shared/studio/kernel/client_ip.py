"""The caller's IP address, for per-IP limits: the socket peer, or, when the runtime is
configured to sit behind trusted proxies, the address those proxies recorded.

``X-Forwarded-For`` is a list each proxy appends to, so every entry left of the ones our own
infrastructure wrote is whatever the client chose to send. ``trusted_hops`` is the number of
entries at the RIGHT end written by our infrastructure; the client is the leftmost of them
(``entries[-trusted_hops]``). Google's external Application Load Balancer appends
``<client>, <load balancer>``, so it is 2 there (Terraform sets ``STUDIO_TRUSTED_PROXY_HOPS``);
that is only sound because the functions' ingress admits nothing but the load balancer. With 0
(the default, and the local runtime) the header is ignored: rotating it changes nothing.
"""
from __future__ import annotations

import ipaddress

from werkzeug.wrappers import Request

MAX_TRUSTED_HOPS = 10


def client_ip(remote_addr: str | None, forwarded_for: str | None, trusted_hops: int) -> str:
    """The address to key per-IP limits on ("-" when the peer is unknown)."""
    peer = _parse(remote_addr) or "-"
    if trusted_hops <= 0 or not forwarded_for:
        return peer
    entries = [e.strip() for e in forwarded_for.split(",")]
    if len(entries) < trusted_hops:
        # Not written by the proxies we were told about (a request that bypassed them): the
        # header is the caller's own claim, so the peer is all we know.
        return peer
    return _parse(entries[-trusted_hops]) or peer


def request_client_ip(request: Request, trusted_hops: int) -> str:
    return client_ip(request.remote_addr, request.headers.get("X-Forwarded-For"), trusted_hops)


def ip_bucket(address: str) -> str:
    """What one client controls: an IPv4 address, or an IPv6 /64 (one host gets a whole /64, so
    counting single IPv6 addresses would let it rotate through 2^64 of them)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _parse(raw: str | None) -> str | None:
    if not raw:
        return None
    text = raw.strip()
    if text.startswith("[") and "]" in text:  # "[v6]:port"
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # "v4:port"
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None
