"""Outbound calls of tenant HTTP tools, guarded against server-side request forgery (decision 0032).

A tenant names a URL; the platform calls it from inside the cloud network, where loopback, private
ranges and the metadata server (169.254.169.254, which hands out the service account's tokens) are
reachable. So before each connection:

1. the URL must be ``https`` (``http`` only for an allow-listed host), with no credentials in it;
2. the host is resolved, and EVERY address it resolves to must be public: not loopback, private,
   link-local (the metadata server), shared, multicast, reserved or unspecified, IPv4-mapped IPv6
   checked as the IPv4 it maps; unless an entry of ``Settings.tool_url_allow`` (a CIDR or an exact host
   name) admits it;
3. the connection goes to the very address that was checked (the socket is opened to the IP, TLS still
   verifies the certificate for the host name): a DNS answer that changes between check and connect
   (DNS rebinding) cannot redirect the call;
4. redirects are followed by hand, at most ``MAX_REDIRECTS``, each target checked from step 1 again.
"""
from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from studio.kernel import errors
from studio.tools.errors import TOOL_FAILED, TOOL_URL_REFUSED

MAX_REDIRECTS = 3
MAX_RESPONSE_BYTES = 1024 * 1024
TIMEOUT_S = 10.0
METADATA = (ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"))
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise errors.StudioError(TOOL_URL_REFUSED, f"{host} does not resolve") from exc
    return sorted({str(info[4][0]) for info in infos})


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query
    address: str  # the checked IP the connection is pinned to


def is_public(ip: IpAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (ip in METADATA or ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast
                or ip.is_reserved or ip.is_unspecified or not ip.is_global)


class UrlGuard:
    def __init__(self, allow: Sequence[str] = (), resolver: Resolver = system_resolver) -> None:
        self._networks = []
        self._hosts = set()
        for entry in allow:
            try:
                self._networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self._hosts.add(entry.lower().rstrip("."))
        self._resolve = resolver

    def _allowed(self, host: str, ip: IpAddress) -> bool:
        return host in self._hosts or any(ip in net for net in self._networks)

    def check_syntax(self, url: str) -> tuple[str, str, int, str]:
        """(scheme, host, port, path) of a URL a tool may name; refused with TOOL_URL_REFUSED otherwise."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise errors.StudioError(TOOL_URL_REFUSED, "the URL does not parse") from exc
        host = (parts.hostname or "").lower().rstrip(".")
        if parts.scheme not in ("https", "http") or not host:
            raise errors.StudioError(TOOL_URL_REFUSED, "a tool URL is https://host/...")
        if parts.username is not None or parts.password is not None:
            raise errors.StudioError(TOOL_URL_REFUSED, "a tool URL carries no credentials")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path

    def check(self, url: str) -> Target:
        """Resolve and check ``url``; the returned target pins the address to connect to."""
        scheme, host, port, path = self.check_syntax(url)
        addresses = [ipaddress.ip_address(a.split("%")[0]) for a in self._resolve(host, port)]
        if not addresses:
            raise errors.StudioError(TOOL_URL_REFUSED, f"{host} does not resolve")
        refused = [ip for ip in addresses if not is_public(ip) and not self._allowed(host, ip)]
        if refused:  # one bad address is enough: the resolver could hand it out next time
            raise errors.StudioError(TOOL_URL_REFUSED, f"{host} resolves to a non-public address ({refused[0]})")
        if scheme == "http" and not all(self._allowed(host, ip) for ip in addresses):
            raise errors.StudioError(TOOL_URL_REFUSED, "plain http only to an allow-listed host; use https")
        return Target(scheme, host, port, path, str(addresses[0]))

    def post_json(self, url: str, body: Any, *, timeout_s: float = TIMEOUT_S) -> Any:
        """POST ``body`` as JSON to ``url`` (redirects re-checked), return the decoded JSON answer."""
        payload = json.dumps(body, allow_nan=False).encode()
        method = "POST"
        for _ in range(MAX_REDIRECTS + 1):
            target = self.check(url)
            status, location, data = _send(target, method, payload if method == "POST" else None, timeout_s)
            if status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                if status == 303 or (status in (301, 302)):
                    method = "GET"  # RFC 9110 15.4: what browsers do; 307/308 keep the method and body
                continue
            if not 200 <= status < 300:
                raise errors.StudioError(TOOL_FAILED, f"the tool's endpoint answered {status}")
            try:
                return json.loads(data)
            except ValueError as exc:
                raise errors.StudioError(TOOL_FAILED, "the tool's endpoint did not answer JSON") from exc
        raise errors.StudioError(TOOL_FAILED, f"more than {MAX_REDIRECTS} redirects")


class _PinnedHttps(http.client.HTTPSConnection):
    """TLS to ``host`` (SNI and certificate checked for it) over a socket opened to ``address``."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHttp(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def _send(target: Target, method: str, payload: bytes | None, timeout_s: float) -> tuple[int, str | None, bytes]:
    kind = _PinnedHttps if target.scheme == "https" else _PinnedHttp
    conn = kind(target.host, target.port, target.address, timeout_s)
    headers = {"Accept": "application/json", "User-Agent": "studio-tools/1"}
    if payload is not None:
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, target.path, body=payload, headers=headers)
        resp = conn.getresponse()
        data = resp.read(MAX_RESPONSE_BYTES + 1)
        if len(data) > MAX_RESPONSE_BYTES:
            raise errors.StudioError(TOOL_FAILED, f"the tool's answer exceeds {MAX_RESPONSE_BYTES} bytes")
        return resp.status, resp.getheader("Location"), data
    except (OSError, http.client.HTTPException) as exc:
        raise errors.StudioError(TOOL_FAILED, f"the tool's endpoint is unreachable ({type(exc).__name__})") from exc
    finally:
        conn.close()
