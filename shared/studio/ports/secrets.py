"""Secret store port: Secret Manager's model (named secrets with numbered,
individually disableable versions).

Missing secrets, missing versions and disabled versions all raise
``errors.NotFound``: to a caller they are equally unreadable.
"""
from __future__ import annotations

import re
from typing import Protocol

from studio.kernel import errors

MAX_VALUE_BYTES = 64 * 1024  # Secret Manager's payload limit
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


class SecretStore(Protocol):
    def put(self, name: str, value: bytes) -> int:
        """Add a version (creating the secret if needed); returns its number, from 1."""
        ...

    def get(self, name: str, version: int | None = None) -> bytes:
        """The given version, or the latest enabled one."""
        ...

    def versions(self, name: str) -> list[int]:
        """Every version number, enabled or disabled, ascending."""
        ...

    def disable(self, name: str, version: int) -> None: ...

    def delete(self, name: str) -> None:
        """Remove the secret and all its versions."""
        ...

    def list_names(self, prefix: str = "") -> list[str]:
        """Secret names starting with ``prefix``, sorted."""
        ...


def check_secret_name(name: str) -> str:
    # fullmatch: "$" would accept a trailing newline.
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise errors.StudioError(errors.BAD_REQUEST, "secret names must match ^[A-Za-z0-9_-]{1,255}$")
    return name


def check_secret_value(value: bytes) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise errors.StudioError(errors.BAD_REQUEST, "secret values must be bytes")
    value = bytes(value)
    if len(value) > MAX_VALUE_BYTES:
        raise errors.StudioError(errors.PAYLOAD_TOO_LARGE, f"secret values are limited to {MAX_VALUE_BYTES} bytes")
    return value


def check_version(version: int) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise errors.StudioError(errors.BAD_REQUEST, "secret versions are integers from 1")
    return version
