"""The audit browser's only way out: a forward proxy on loopback that checks every connection.

Chromium is started with this proxy for every request, loopback included (``<-loopback>``), so each
hop of a redirect chain, each subresource and each CONNECT tunnel is a new request here. For each one
the host is resolved and every address judged with the tool guard's rules (studio/tools/ssrf.py:
no loopback, private, link-local, metadata, reserved ... unless ``Settings.audit_url_allow`` admits
it), and the upstream socket is opened to the address that was checked: a DNS answer that changes
between check and connect (rebinding) cannot steer the browser inward. Refusals are answered 403 and
recorded, so the audit can name them. Decision 0064.
"""
from __future__ import annotations

import select
import socket
import socketserver
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

from studio.kernel import errors

Check = Callable[[str, int], str]  # (host, port) -> the address to connect to; raises StudioError
_HEAD_LIMIT = 64 * 1024


class EgressProxy:
    def __init__(self, check: Check) -> None:
        self.refused: list[str] = []
        self._check = check
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="audit-egress", daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> EgressProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _serve(self, client: socket.socket) -> None:
        got = _read_head(client)
        if got is None:
            return
        head, body = got
        line, _, rest = head.partition(b"\r\n")
        try:
            method, target, _version = line.decode("latin-1").split(" ", 2)
        except ValueError:
            return
        if method == "CONNECT":
            host, _, port_text = target.rpartition(":")
            host, port, url = host.strip("[]"), int(port_text or 443), f"https://{target}/"
        else:
            parts = urlsplit(target)
            if parts.scheme != "http" or not parts.hostname:
                client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                return
            host, port, url = parts.hostname, parts.port or 80, target
        try:
            address = self._check(host, port)
        except errors.StudioError:
            self.refused.append(url)
            client.sendall(b"HTTP/1.1 403 Forbidden\r\nX-Audit-Refused: ssrf\r\nContent-Length: 0\r\n\r\n")
            return
        try:
            upstream = socket.create_connection((address, port), timeout=15)
        except OSError:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        with upstream:
            if method == "CONNECT":
                client.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            else:  # origin-form request line; one request per connection keeps every hop checked
                parts = urlsplit(target)
                path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                headers = [h for h in rest.split(b"\r\n") if h and not h.lower().startswith(
                    (b"proxy-connection:", b"connection:", b"keep-alive:"))]
                upstream.sendall(f"{method} {path} HTTP/1.1\r\n".encode("latin-1") + b"\r\n".join(headers)
                                 + b"\r\nConnection: close\r\n\r\n" + body)
            _pipe(client, upstream)


def _read_head(sock: socket.socket) -> tuple[bytes, bytes] | None:
    data = b""
    sock.settimeout(15)
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(4096)
        except OSError:
            return None
        if not chunk or len(data) > _HEAD_LIMIT:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body  # body: what of a request body arrived with the head (the pipe forwards the rest)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    sockets = [a, b]
    while True:
        try:
            readable, _, broken = select.select(sockets, [], sockets, 30)
        except (OSError, ValueError):
            return
        if broken or not readable:
            return
        for sock in readable:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            (b if sock is a else a).sendall(data)
