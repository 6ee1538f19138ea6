"""Blob store on the local filesystem (its signed-URL endpoint, which stands in for
storage.googleapis.com when everything runs on one machine, is ``local_blob_server``).

Layout: ``<root>/<bucket>/<sha256(name)>.blob`` holds one JSON header line (the
BlobInfo) followed by the bytes, so a single ``os.replace`` publishes data and
metadata together: after a crash a reader sees the old object or the new one, never
a mix. Hashing the name also means no object name ever becomes a filesystem path.
"""
from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import json
import logging
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from studio.adapters.private_files import fchmod_private, open_private, private_dir, tighten_tree
from studio.kernel import errors
from studio.ports.blobs import (
    BlobInfo,
    check_bucket,
    check_content_type,
    check_generation_match,
    check_max_bytes,
    check_object_name,
    check_signed_request,
)

log = logging.getLogger(__name__)

DEFAULT_CONTENT_TYPE = "application/octet-stream"
DEFAULT_MAX_UPLOAD = 64 * 1024 * 1024
RESUMABLE_SESSION_S = 7 * 24 * 3600  # as long as a GCS resumable session lives
_SIG_VERSION = "studio-blob-v1"

try:  # optional C implementation; never a dependency
    from google_crc32c import value as _crc32c_c
except ImportError:
    _crc32c_c = None


def _crc32c_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1  # Castagnoli, reflected
        table.append(c)
    return tuple(table)


_CRC_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    if _crc32c_c is not None:
        return int(_crc32c_c(data))  # the C extension is untyped
    crc, table = 0xFFFFFFFF, _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, data: bytes) -> None:
    """temp file + fsync + os.replace + fsync(dir): durable once this returns."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        fchmod_private(fd)  # exactly 0600, whatever the umask
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _forbidden(detail: str) -> errors.StudioError:
    return errors.StudioError(errors.FORBIDDEN, detail)


def _check_match(expected: int | None, current: BlobInfo | None) -> None:
    actual = current.generation if current else 0
    if expected is not None and expected != actual:
        raise errors.RevisionConflict(actual, status=412)


class LocalBlobStore:
    def __init__(
        self, root: Path, *, base_url: str, signing_key: bytes, clock: Callable[[], float] = time.time
    ) -> None:
        if len(signing_key) < 16:
            raise ValueError("signing_key must be at least 16 bytes")
        self.root = Path(root)
        private_dir(self.root)
        tighten_tree(self.root)  # blobs written before files were private
        self.base_url = base_url.rstrip("/")
        self._key = bytes(signing_key)
        self._clock = clock
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # keeps the signing key out of logs
        return f"LocalBlobStore(root={str(self.root)!r}, base_url={self.base_url!r})"

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        # The thread lock serialises this instance; flock serialises processes and
        # other instances sharing the root (generation checks are read-then-write).
        with self._lock, open_private(self.root / ".lock") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield

    def _path(self, bucket: str, name: str) -> Path:
        return self.root / bucket / (hashlib.sha256(name.encode("utf-8")).hexdigest() + ".blob")

    @staticmethod
    def _read_info(path: Path | str) -> BlobInfo | None:
        try:
            with open(path, "rb") as fh:
                return BlobInfo(**json.loads(fh.readline()))
        except FileNotFoundError:
            return None

    def _next_generation(self, bucket: str) -> int:
        # A per-bucket counter, so a deleted-then-recreated object never reuses a
        # generation (an old if_generation_match must keep failing).
        counter = self.root / bucket / ".generation"
        try:
            last = int(counter.read_text())
        except FileNotFoundError:
            last = 0
        _atomic_write(counter, str(last + 1).encode())
        return last + 1

    def put(
        self, bucket: str, name: str, data: bytes, content_type: str = DEFAULT_CONTENT_TYPE,
        *, if_generation_match: int | None = None,
    ) -> BlobInfo:
        check_bucket(bucket)
        check_object_name(name)
        check_generation_match(if_generation_match)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise errors.StudioError(errors.BAD_REQUEST, "blob data must be bytes")
        data = bytes(data)
        check_content_type(content_type)
        md5 = _b64(hashlib.md5(data, usedforsecurity=False).digest())
        crc = _b64(crc32c(data).to_bytes(4, "big"))
        path = self._path(bucket, name)
        with self._write_lock():
            private_dir(path.parent)
            _check_match(if_generation_match, self._read_info(path))
            updated = datetime.fromtimestamp(self._clock(), UTC).isoformat(timespec="milliseconds")
            info = BlobInfo(
                bucket=bucket, name=name, size=len(data), content_type=content_type, md5_b64=md5,
                generation=self._next_generation(bucket), crc32c_b64=crc, updated=updated.replace("+00:00", "Z"),
            )
            # ensure_ascii keeps the header on one line whatever the name holds.
            _atomic_write(path, json.dumps(asdict(info)).encode("ascii") + b"\n" + data)
        return info

    def get(self, bucket: str, name: str) -> tuple[bytes, BlobInfo]:
        check_bucket(bucket)
        check_object_name(name)
        try:
            raw = self._path(bucket, name).read_bytes()
        except FileNotFoundError:
            raise errors.NotFound(f"object {bucket}/{name} not found") from None
        header, _, data = raw.partition(b"\n")
        return data, BlobInfo(**json.loads(header))

    def stat(self, bucket: str, name: str) -> BlobInfo | None:
        check_bucket(bucket)
        check_object_name(name)
        return self._read_info(self._path(bucket, name))

    def delete(self, bucket: str, name: str, *, if_generation_match: int | None = None) -> None:
        check_bucket(bucket)
        check_object_name(name)
        check_generation_match(if_generation_match)
        path = self._path(bucket, name)
        with self._write_lock():
            current = self._read_info(path)
            if current is None:
                raise errors.NotFound(f"object {bucket}/{name} not found")
            _check_match(if_generation_match, current)
            path.unlink()
            _fsync_dir(path.parent)

    def list_blobs(self, bucket: str, prefix: str = "", limit: int = 1000) -> list[BlobInfo]:
        check_bucket(bucket)
        if not isinstance(prefix, str):
            raise errors.StudioError(errors.BAD_REQUEST, "prefix must be a string")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise errors.StudioError(errors.BAD_REQUEST, "limit must be a positive integer")
        folder = self.root / bucket
        if not folder.is_dir():
            return []
        found = []
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.endswith(".blob"):
                    info = self._read_info(entry.path)  # None if deleted meanwhile
                    if info is not None and info.name.startswith(prefix):
                        found.append(info)
        found.sort(key=lambda i: i.name)  # code-point order == GCS's UTF-8 byte order
        return found[:limit]

    # -- signed URLs -------------------------------------------------------------

    def _sign(self, method: str, bucket: str, name: str, expires: int, content_type: str | None,
              max_bytes: int | None = None) -> str:
        # JSON makes the message unambiguous whatever characters the fields hold. An unbounded URL
        # signs the message it always did, so URLs handed out before size binding stay valid.
        fields: list[object] = [_SIG_VERSION, method, bucket, name, expires, content_type or ""]
        if max_bytes is not None:
            fields.append(max_bytes)
        msg = json.dumps(fields)
        return hmac.new(self._key, msg.encode("utf-8"), hashlib.sha256).hexdigest()

    def signed_url(
        self, bucket: str, name: str, *, method: str = "GET", expires_s: int = 900, content_type: str | None = None,
        max_bytes: int | None = None,
    ) -> str:
        method = check_signed_request(method, expires_s, content_type)
        check_max_bytes(max_bytes)
        check_bucket(bucket)
        check_object_name(name)
        expires = int(self._clock()) + expires_s
        sig = self._sign(method, bucket, name, expires, content_type, max_bytes)
        params: dict[str, object] = {"method": method, "expires": expires, "sig": sig}
        if max_bytes is not None:
            params["max"] = max_bytes  # signed: the size the uploader declared (GCS: x-goog-content-length-range)
        return f"{self.base_url}/_blobs/{bucket}/{quote(name, safe='/')}?{urlencode(params)}"

    def verify_signed(
        self, method: str, bucket: str, name: str, query: Mapping[str, str], content_type: str | None
    ) -> int | None:
        """``content_type`` is the request's Content-Type. A URL signed without one
        accepts any; a URL signed with one accepts only that one (as GCS does). Returns the
        signed size bound (``max_bytes``), None when the URL carries none."""
        signed_method = query.get("method") or ""
        raw_expires = query.get("expires") or ""
        raw_max = query.get("max")
        sig = (query.get("sig") or "").encode("utf-8")
        if not (signed_method and sig and is_small_number(raw_expires)):
            raise _forbidden("URL is not signed")
        if raw_max is not None and not (raw_max == "0" or is_small_number(raw_max)):
            raise _forbidden("URL is not signed")
        expires = int(raw_expires)
        max_bytes = int(raw_max) if raw_max is not None else None
        candidates = [self._sign(signed_method, bucket, name, expires, None, max_bytes)]
        if content_type:
            candidates.append(self._sign(signed_method, bucket, name, expires, content_type, max_bytes))
        if not any(hmac.compare_digest(sig, c.encode("ascii")) for c in candidates):
            raise _forbidden("signature does not match this request")
        if self._clock() > expires:
            raise _forbidden("signed URL has expired")
        if signed_method != method.upper():
            raise _forbidden(f"URL is signed for {signed_method}, not {method.upper()}")
        return max_bytes

    # -- resumable uploads (GCS's protocol, for big local uploads) ----------------

    def _session_sig(self, upload_id: str) -> str:
        msg = json.dumps([_SIG_VERSION, "resumable", upload_id])
        return hmac.new(self._key, msg.encode("utf-8"), hashlib.sha256).hexdigest()

    def _session_paths(self, upload_id: str) -> tuple[Path, Path]:
        folder = self.root / ".sessions"
        private_dir(folder)
        return folder / f"{upload_id}.json", folder / f"{upload_id}.part"

    def resumable_upload_url(
        self, bucket: str, name: str, *, content_type: str = DEFAULT_CONTENT_TYPE, size: int | None = None,
        origin: str | None = None, if_generation_match: int | None = None,
    ) -> str:
        """A session URL a client PUTs the bytes to in ``Content-Range`` chunks, resuming after a drop
        (GCS's resumable protocol: 308 with ``Range`` until the last chunk, then the object). Like a GCS
        session URL it is the credential itself, valid for a week. ``origin`` is accepted for the port's
        shape (the local runtime's CORS already covers loopback origins)."""
        check_bucket(bucket)
        check_object_name(name)
        check_content_type(content_type)
        check_generation_match(if_generation_match)
        check_max_bytes(size)
        upload_id = uuid.uuid4().hex
        meta, part = self._session_paths(upload_id)
        _atomic_write(part, b"")
        _atomic_write(meta, json.dumps({"bucket": bucket, "name": name, "content_type": content_type, "size": size,
                                        "if_generation_match": if_generation_match,
                                        "expires": int(self._clock()) + RESUMABLE_SESSION_S}).encode())
        query = urlencode({"upload_id": upload_id, "sig": self._session_sig(upload_id)})
        return f"{self.base_url}/_blobs/{bucket}/{quote(name, safe='/')}?{query}"

    def resumable_put(self, bucket: str, name: str, query: Mapping[str, str], content_range: str | None,
                      data: bytes) -> tuple[int, BlobInfo | None]:
        """Apply one chunk: (bytes held so far, the object once the last chunk made it)."""
        upload_id, sig = query.get("upload_id") or "", query.get("sig") or ""
        if not (len(upload_id) == 32 and upload_id.isascii() and upload_id.isalnum()) or not hmac.compare_digest(
                sig.encode(), self._session_sig(upload_id).encode()):
            raise _forbidden("not an upload session of this store")
        meta_path, part = self._session_paths(upload_id)
        with self._write_lock():
            try:
                session = json.loads(meta_path.read_text())
            except FileNotFoundError:
                raise errors.NotFound("no such upload session (finished or expired)") from None
            if (session["bucket"], session["name"]) != (bucket, name) or self._clock() > session["expires"]:
                raise _forbidden("the upload session does not cover this object, or has expired")
            first, last, total = _content_range(content_range)
            held = part.stat().st_size
            size = session["size"]
            if total is not None and size is not None and total != size:
                raise errors.StudioError(errors.PAYLOAD_TOO_LARGE if total > size else errors.BAD_REQUEST,
                                         f"the session was opened for {size} bytes, not {total}")
            if first is not None and last is not None:
                if first > held or last - first + 1 != len(data):
                    raise errors.StudioError(errors.BAD_REQUEST, f"expected bytes from {held}, matching the body")
                fresh = data[held - first:]  # a resent chunk: only what is new
                if size is not None and held + len(fresh) > size:
                    raise errors.StudioError(errors.PAYLOAD_TOO_LARGE, f"the session was opened for {size} bytes")
                with open(part, "ab") as fh:
                    fh.write(fresh)
                    fh.flush()
                    os.fsync(fh.fileno())
                held += len(fresh)
            if total is None or held < total:
                return held, None
            blob = part.read_bytes()
            meta_path.unlink()
            part.unlink()
        info = self.put(bucket, name, blob, session["content_type"], if_generation_match=session["if_generation_match"])
        return held, info


def is_small_number(raw: str) -> bool:
    """ASCII digits that fit in 63 bits: ``int()`` of 5,000 digits raises, and no time or
    generation needs more than 18."""
    return 0 < len(raw) <= 18 and raw.isascii() and raw.isdigit()


def _content_range(raw: str | None) -> tuple[int | None, int | None, int | None]:
    """``bytes a-b/N``, ``bytes a-b/*`` or ``bytes */N`` (a status query): (a, b, N)."""
    unit, _, spec = (raw or "").partition(" ")
    span, slash, total = spec.partition("/")
    if unit != "bytes" or not slash or not (total == "*" or is_small_number(total)):
        raise errors.StudioError(errors.BAD_REQUEST, "Content-Range must be 'bytes a-b/N', 'bytes a-b/*' or 'bytes */N'")
    size = None if total == "*" else int(total)
    if span == "*":
        return None, None, size
    a, dash, b = span.partition("-")
    if not dash or not (a == "0" or is_small_number(a)) or not (b == "0" or is_small_number(b)) or int(b) < int(a):
        raise errors.StudioError(errors.BAD_REQUEST, "Content-Range has a bad byte span")
    return int(a), int(b), size
