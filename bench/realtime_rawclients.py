"""Minimal SSE and WebSocket subscribers on bare asyncio protocols, for diagnosis: they stamp
the time when the kernel hands the bytes over and spend a few microseconds per frame, so a
figure measured with them is (nearly) the gateway's alone, with the clients' CPU out of the way.

The WebSocket client offers permessage-deflate as browsers (and ``websockets``) do, so the
gateway compresses exactly as it does for the full clients; it inflates with zlib.
"""
from __future__ import annotations

import asyncio
import base64
import os
import re
import time
import zlib
from collections.abc import Callable

Sink = Callable[[int, float], None]  # (message index, receipt time)


class _Base(asyncio.Protocol):
    def __init__(self, pattern: re.Pattern[bytes], sink: Sink) -> None:
        self.pattern = pattern
        self.sink = sink
        self.transport: asyncio.Transport | None = None
        self.head = b""
        self.headers_done = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(exc or ConnectionError("closed before the stream opened"))
        if not self.closed.done():
            self.closed.set_result(None)

    def _head(self, data: bytes, want: bytes) -> bytes | None:
        """Until the response head is complete: None; then the bytes after it."""
        self.head += data
        end = self.head.find(b"\r\n\r\n")
        if end < 0:
            return None
        status = self.head.split(b"\r\n", 1)[0]
        if want not in status:
            self.ready.set_exception(ConnectionError(f"refused: {status!r}"))
            return None
        self.headers_done = True
        rest = self.head[end + 4:]
        self.head = b""
        return rest

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class RawSse(_Base):
    def __init__(self, path: str, host: str, headers: dict[str, str], pattern: re.Pattern[bytes], sink: Sink) -> None:
        super().__init__(pattern, sink)
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Accept: text/event-stream",
                 *(f"{k}: {v}" for k, v in headers.items())]
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        now = time.time()
        if not self.headers_done:
            rest = self._head(data, b" 200 ")
            if rest is None:
                return
            self.ready.set_result(None)
            data = rest
        for m in self.pattern.finditer(data):  # chunked framing never splits a small event in practice
            self.sink(int(m.group(1)), now)


class RawWs(_Base):
    def __init__(self, path: str, host: str, headers: dict[str, str], pattern: re.Pattern[bytes], sink: Sink) -> None:
        super().__init__(pattern, sink)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
                 "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
                 *(f"{k}: {v}" for k, v in headers.items())]
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self.buffer = b""
        self.inflate = zlib.decompressobj(-15)
        self.deflated = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        now = time.time()
        if not self.headers_done:
            head = self.head + data
            rest = self._head(data, b" 101 ")
            if rest is None:
                return
            self.deflated = b"permessage-deflate" in head.split(b"\r\n\r\n", 1)[0].lower()
            data = rest
        self.buffer += data
        buf = self.buffer
        pos = 0
        while len(buf) - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length, off = b1 & 0x7F, pos + 2
            if length == 126:
                if len(buf) - off < 2:
                    break
                length, off = int.from_bytes(buf[off:off + 2], "big"), off + 2
            elif length == 127:
                if len(buf) - off < 8:
                    break
                length, off = int.from_bytes(buf[off:off + 8], "big"), off + 8
            if len(buf) - off < length:
                break
            payload = buf[off:off + length]
            pos = off + length
            opcode = b0 & 0x0F
            if opcode == 0x8:  # close
                self.close()
                return
            if opcode not in (0x1, 0x2):  # a control frame (the server's pings: answered by nobody; fine here)
                continue
            if self.deflated and b0 & 0x40:
                payload = self.inflate.decompress(payload + b"\x00\x00\xff\xff")
            if not self.ready.done():
                self.ready.set_result(None)  # the hello frame
                continue
            for m in self.pattern.finditer(payload):
                self.sink(int(m.group(1)), now)
        self.buffer = buf[pos:]
