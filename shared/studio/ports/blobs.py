"""Blob store port: Cloud Storage's model (buckets of named, generation-versioned
objects, signed URLs) with the name rules every adapter enforces the same way.

Generation-match failures raise ``errors.RevisionConflict`` with ``status=412``
(GCS answers 412 Precondition Failed); ``current_rev`` is the object's current
generation, 0 when it does not exist.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from studio.kernel import errors

MAX_NAME_BYTES = 1024  # GCS limit on object names (UTF-8)
SIGNED_METHODS = ("GET", "PUT")
MAX_SIGNED_EXPIRES_S = 7 * 24 * 3600  # GCS V4 maximum

# GCS bucket rule (lowercase, digits, "-", "_", "."), kept strict because the local
# adapter uses the bucket as a directory name.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,220}[a-z0-9]$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class BlobInfo:
    bucket: str
    name: str
    size: int
    content_type: str
    generation: int
    md5_b64: str
    crc32c_b64: str  # big-endian CRC32C, base64, as GCS reports it
    updated: str  # RFC3339, UTC, "Z"


class BlobStore(Protocol):
    def put(
        self,
        bucket: str,
        name: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        *,
        if_generation_match: int | None = None,
    ) -> BlobInfo:
        """Create or overwrite. ``if_generation_match=0`` means "only if absent"."""
        ...

    def get(self, bucket: str, name: str) -> tuple[bytes, BlobInfo]:
        """Raises ``errors.NotFound`` when absent."""
        ...

    def stat(self, bucket: str, name: str) -> BlobInfo | None: ...

    def delete(self, bucket: str, name: str, *, if_generation_match: int | None = None) -> None:
        """Raises ``errors.NotFound`` when absent."""
        ...

    def list_blobs(self, bucket: str, prefix: str = "", limit: int = 1000) -> list[BlobInfo]:
        """Objects whose name starts with ``prefix``, sorted by name, at most ``limit``."""
        ...

    def signed_url(
        self,
        bucket: str,
        name: str,
        *,
        method: str = "GET",
        expires_s: int = 900,
        content_type: str | None = None,
        max_bytes: int | None = None,
    ) -> str:
        """A bearer URL for one method on one object. A PUT URL signed with a
        ``content_type`` only accepts uploads with exactly that Content-Type; one signed with
        ``max_bytes`` refuses a body larger than that. The uploader sends
        ``upload_headers(content_type, max_bytes)``."""
        ...


def _bad(detail: str) -> errors.StudioError:
    return errors.StudioError(errors.BAD_REQUEST, detail)


def check_bucket(bucket: str) -> str:
    if not isinstance(bucket, str) or not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise _bad(f"invalid bucket name {bucket!r}")
    return bucket


def check_object_name(name: str) -> str:
    """Reject anything that could escape a directory if an adapter ever maps names
    to paths: absolute paths, drive letters, "."/".." segments, NUL, backslashes."""
    if not isinstance(name, str) or not name:
        raise _bad("object name must be a non-empty string")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise _bad(f"object name longer than {MAX_NAME_BYTES} bytes")
    if "\\" in name or _CONTROL.search(name):
        raise _bad("object name must not contain backslashes or control characters")
    if name.startswith("/") or _DRIVE.match(name):
        raise _bad("object name must be relative")
    if any(seg in (".", "..") for seg in name.split("/")):
        raise _bad("object name must not contain '.' or '..' segments")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise _bad("object name must be valid UTF-8") from None
    return name


def check_generation_match(value: int | None) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise _bad("if_generation_match must be a non-negative integer")
    return value


LENGTH_RANGE_HEADER = "x-goog-content-length-range"  # GCS's signed size bound (XML API)


def upload_headers(content_type: str | None, max_bytes: int | None) -> dict[str, str]:
    """The headers a PUT to a signed URL must carry, the same on every adapter: GCS checks the
    signed ones itself; the local adapter binds the same values in its signature."""
    headers: dict[str, str] = {}
    if content_type:
        headers["Content-Type"] = content_type
    if max_bytes is not None:
        headers[LENGTH_RANGE_HEADER] = f"0,{max_bytes}"
    return headers


def check_max_bytes(value: int | None) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise _bad("max_bytes must be a non-negative integer")
    return value


def check_signed_request(method: str, expires_s: int, content_type: str | None) -> str:
    method = method.upper() if isinstance(method, str) else ""
    if method not in SIGNED_METHODS:
        raise _bad(f"signed URLs support {', '.join(SIGNED_METHODS)}")
    if isinstance(expires_s, bool) or not isinstance(expires_s, int) or not 1 <= expires_s <= MAX_SIGNED_EXPIRES_S:
        raise _bad(f"expires_s must be between 1 and {MAX_SIGNED_EXPIRES_S}")
    if content_type is not None:
        check_content_type(content_type)
    return method


def check_content_type(content_type: str) -> str:
    if not isinstance(content_type, str) or not content_type or _CONTROL.search(content_type):
        raise _bad("invalid content_type")
    return content_type
