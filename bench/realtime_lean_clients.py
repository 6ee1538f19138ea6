"""Lean SSE and WebSocket subscribers that know when their bytes arrived.

A thousand browsers each have a CPU of their own; a thousand subscribers in one benchmark
process share one, and reading 1,000 sockets one after another puts the last reader's
stamp late by everything read before it. So each read asks the kernel when the bytes
arrived (SO_TIMESTAMPNS, on Linux for TCP too): that is the delivery time, whatever this
process was busy with. The moment the client's code got to the bytes is recorded beside it.

The clients speak the protocols in full: HTTP/1.1 with chunked bodies and SSE fields; the
WebSocket handshake with its accept check, frames (fragmented or not), permessage-deflate
if the server takes it, pings answered with masked pongs. Every event is JSON-decoded.
"""
from __future__ import annotations

import asyncio
import base64
import codecs
import hashlib
import json
import os
import socket
import struct
import time
import zlib
from collections.abc import Callable
from typing import Any

from bench.realtime_support import sse_blocks

# (event type, parsed JSON data, arrival time from the kernel, time this process read it)
OnEvent = Callable[[str, dict[str, Any], float, float], None]
_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux's value where Python lacks the name
_ANC_SPACE = socket.CMSG_SPACE(16)


class _Stream:
    """A non-blocking socket read on the event loop with ``recvmsg``, so each read carries the
    kernel's arrival timestamp. ``ready`` resolves once the stream is open, ``closed`` at the end
    (with the error that ended it, if any: the server closing, a parse failure)."""

    expected_status = b""

    def __init__(self, request: bytes, on_event: OnEvent) -> None:
        self.request = request
        self.on_event = on_event
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.head = b""
        self.head_fields: dict[bytes, bytes] | None = None
        self.loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[None] = self.loop.create_future()
        self.closed: asyncio.Future[BaseException | None] = self.loop.create_future()  # why it ended

    async def connect(self, host: str, port: int) -> None:
        await self.loop.sock_connect(self.sock, (host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.loop.add_reader(self.sock.fileno(), self._readable)
        self.send(self.request)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)  # small (a request, a pong): the send buffer takes it whole

    def _readable(self) -> None:
        try:
            data, ancillary, _flags, _addr = self.sock.recvmsg(1 << 16, _ANC_SPACE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._end(exc)
            return
        read_at = time.time()
        arrived = read_at
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", payload[:16])
                arrived = sec + nsec / 1e9
        if not data:
            self._end(ConnectionError("the server closed the connection"))
            return
        try:
            self._received(data, arrived, read_at)
        except Exception as exc:  # noqa: BLE001 - a malformed stream ends this subscriber, reported by the round
            self._end(exc)

    def _received(self, data: bytes, arrived: float, read_at: float) -> None:
        if self.head_fields is None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            status, *lines = self.head[:end].split(b"\r\n")
            if self.expected_status not in status:
                self._end(ConnectionError(f"refused: {self.head[:300]!r}"))
                return
            self.head_fields = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(b":") for ln in lines)}
            data, self.head = self.head[end + 4:], b""
            if not self._opened():
                return
        if data:
            self._body(data, arrived, read_at)

    def _opened(self) -> bool:
        return True

    def _body(self, data: bytes, arrived: float, read_at: float) -> None:
        raise NotImplementedError

    def _end(self, exc: BaseException | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(exc or ConnectionError("closed before the stream opened"))
        if not self.closed.done():
            self.closed.set_result(exc)
        self.close()

    def close(self) -> None:
        if self.sock.fileno() >= 0:
            self.loop.remove_reader(self.sock.fileno())
            self.sock.close()


def _request(path: str, host: str, headers: dict[str, str], extra: list[str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", *extra, *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class LeanSse(_Stream):
    expected_status = b" 200 "

    def __init__(self, path: str, host: str, headers: dict[str, str], on_event: OnEvent) -> None:
        super().__init__(_request(path, host, headers, ["Accept: text/event-stream"]), on_event)
        self.chunked = False
        self.raw = b""  # chunked framing not yet decoded
        self.utf8 = codecs.getincrementaldecoder("utf-8")()  # a chunk may end inside a character
        self.text = ""  # event-stream text not yet a whole event

    def _opened(self) -> bool:
        self.chunked = (self.head_fields or {}).get(b"transfer-encoding", b"").lower() == b"chunked"
        self.ready.set_result(None)  # the gateway subscribes before it answers
        return True

    def _body(self, data: bytes, arrived: float, read_at: float) -> None:
        if self.chunked:
            raw, pos = self.raw + data, 0
            while (eol := raw.find(b"\r\n", pos)) >= 0:
                size = int(raw[pos:eol].split(b";", 1)[0], 16)
                if len(raw) < eol + 4 + size:
                    break
                if size == 0:  # the last chunk: the server ended the stream
                    self._end(ConnectionError("the server ended the stream"))
                    return
                self.text += self.utf8.decode(raw[eol + 2:eol + 2 + size])
                pos = eol + 4 + size
            self.raw = raw[pos:]
        else:
            self.text += self.utf8.decode(data)
        events, self.text = sse_blocks(self.text)
        for kind, data in events:
            self.on_event(kind, data, arrived, read_at)


class LeanWs(_Stream):
    expected_status = b" 101 "

    def __init__(self, path: str, host: str, headers: dict[str, str], on_event: OnEvent) -> None:
        self.key = base64.b64encode(os.urandom(16))
        super().__init__(_request(path, host, headers, [
            "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {self.key.decode()}",
            "Sec-WebSocket-Version: 13", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
        ]), on_event)
        self.buffer = b""
        self.message = b""  # a fragmented message so far
        self.compressed = False
        self.inflate: Any = None

    def _opened(self) -> bool:
        fields = self.head_fields or {}
        accept = base64.b64encode(hashlib.sha1(self.key + _WS_GUID).digest())  # noqa: S324 - RFC 6455 says SHA-1
        if fields.get(b"sec-websocket-accept") != accept:
            self._end(ConnectionError("bad Sec-WebSocket-Accept"))
            return False
        if b"permessage-deflate" in fields.get(b"sec-websocket-extensions", b""):
            self.inflate = zlib.decompressobj(-15)
        return True  # ready once the gateway's hello frame arrives

    def _body(self, data: bytes, arrived: float, read_at: float) -> None:
        buf, pos = self.buffer + data, 0
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
            payload, pos = buf[off:off + length], off + length
            self._frame(b0, payload, arrived, read_at)
        self.buffer = buf[pos:]

    def _frame(self, b0: int, payload: bytes, arrived: float, read_at: float) -> None:
        opcode = b0 & 0x0F
        if opcode == 0x8:  # close
            self._end(ConnectionError(f"the server closed the socket: {payload[:2].hex()} {payload[2:]!r}"))
        elif opcode == 0x9:  # the server's ping: a pong, masked as a client must
            mask = os.urandom(4)
            self.send(bytes([0x8A, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        elif opcode in (0x0, 0x1, 0x2):
            if opcode != 0x0:
                self.compressed = bool(b0 & 0x40)
            self.message += payload
            if not b0 & 0x80:  # more fragments follow
                return
            text, self.message = self.message, b""
            if self.compressed and self.inflate is not None:
                text = self.inflate.decompress(text + b"\x00\x00\xff\xff")
            frame = json.loads(text)
            if not self.ready.done():
                if frame.get("type") != "hello":
                    self._end(ConnectionError(f"first frame {frame!r}"))
                    return
                self.ready.set_result(None)
            self.on_event(frame.get("type", ""), frame, arrived, read_at)


async def open_stream(cls: type[LeanSse] | type[LeanWs], host: str, port: int, path: str, headers: dict[str, str],
                      on_event: OnEvent, timeout: float = 60) -> LeanSse | LeanWs:
    """Connect, send the request, and return once the stream is open (SSE: 200 head; WS: hello)."""
    stream = cls(path, f"{host}:{port}", headers, on_event)
    try:
        await stream.connect(host, port)
        await asyncio.wait_for(asyncio.shield(stream.ready), timeout)
    except BaseException:
        stream.close()
        raise
    return stream
