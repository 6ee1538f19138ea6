"""Secret store in one local file: every value sealed with AES-256-GCM.

Each value gets a random 96-bit nonce and ``name NUL version`` as associated data,
so ciphertexts cannot be swapped between secrets or versions without failing
authentication. A sealed canary proves the key before any read or write, so a wrong
key never mixes values under two keys in one file.

Key: the ``key`` argument, else env ``STUDIO_SECRETS_KEY`` (base64 of 32 bytes),
else ``<path>.key`` (created with mode 0600 when neither file exists yet).
Writes are temp file + ``os.replace``, under a thread lock and an ``flock`` on
``<path>.lock`` so several processes can share the file.
"""
from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from studio.adapters.private_files import fchmod_private, open_private, private_dir, tighten
from studio.kernel import errors
from studio.ports.secrets import check_secret_name, check_secret_value, check_version

KEY_ENV = "STUDIO_SECRETS_KEY"
_FORMAT = 1
_CANARY_AD = b"studio-secrets-check"
_CANARY = b"studio-secrets-v1"


def _undecryptable() -> errors.StudioError:
    return errors.StudioError(errors.UNAVAILABLE, "secrets file cannot be decrypted with this key")


def _ad(name: str, version: int) -> bytes:
    return f"{name}\x00{version}".encode("ascii")  # names are ASCII by rule


def _atomic_write(path: Path, data: bytes) -> None:
    # mkstemp creates the file 0600, so the secrets file is never world-readable.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-")
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
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _decode_key(raw: str | bytes, source: str) -> bytes:
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise errors.StudioError(errors.UNAVAILABLE, f"{source} must hold base64 of 32 bytes")
    return key


class LocalSecretStore:
    def __init__(self, path: Path, key: bytes | None = None) -> None:
        self.path = Path(path)
        private_dir(self.path.parent)
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        tighten(self.path, self.path.with_name(self.path.name + ".key"))  # written before files were private
        self._lock = threading.Lock()
        # Only the AEAD object is kept: no attribute holds the raw key.
        self._aead = AESGCM(self._resolve_key(key))

    def __repr__(self) -> str:
        return f"LocalSecretStore(path={str(self.path)!r})"

    # -- plumbing ------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        with self._lock, open_private(self._lock_path) as fh:
            fcntl.flock(fh, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield  # closing the file releases the flock

    def _resolve_key(self, key: bytes | None) -> bytes:
        if key is not None:
            if len(key) != 32:
                raise ValueError("key must be 32 bytes")
            return bytes(key)
        if os.environ.get(KEY_ENV):
            return _decode_key(os.environ[KEY_ENV], KEY_ENV)
        key_path = self.path.with_name(self.path.name + ".key")
        with self._locked(exclusive=True):
            if key_path.exists():
                return _decode_key(key_path.read_bytes().strip(), str(key_path))
            if self.path.exists():
                # A fresh key could never open the existing file; say so instead.
                raise errors.StudioError(errors.UNAVAILABLE, f"no key for {self.path} (set {KEY_ENV})")
            new = AESGCM.generate_key(bit_length=256)
            _atomic_write(key_path, base64.b64encode(new) + b"\n")
            return new

    def _seal(self, plaintext: bytes, ad: bytes) -> dict[str, str]:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext, ad)
        return {"nonce": base64.b64encode(nonce).decode(), "ct": base64.b64encode(sealed).decode()}

    def _unseal(self, record: dict[str, Any], ad: bytes) -> bytes:
        try:
            return self._aead.decrypt(base64.b64decode(record["nonce"]), base64.b64decode(record["ct"]), ad)
        except (InvalidTag, KeyError, TypeError, ValueError):
            raise _undecryptable() from None

    def _load(self) -> dict[str, Any]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {"format": _FORMAT, "secrets": {}}
        try:
            doc = json.loads(raw)
            check = doc["check"]
            secrets = doc["secrets"]
        except (ValueError, KeyError, TypeError):
            raise errors.StudioError(errors.UNAVAILABLE, f"secrets file {self.path} is corrupt") from None
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT or not isinstance(secrets, dict):
            raise errors.StudioError(errors.UNAVAILABLE, f"secrets file {self.path} has an unknown format")
        if self._unseal(check, _CANARY_AD) != _CANARY:
            raise _undecryptable()
        return doc

    def _save(self, doc: dict[str, Any]) -> None:
        doc.setdefault("check", self._seal(_CANARY, _CANARY_AD))
        _atomic_write(self.path, json.dumps(doc, sort_keys=True, indent=1).encode("ascii"))

    @staticmethod
    def _entry(doc: dict[str, Any], name: str) -> dict[str, Any]:
        entry: dict[str, Any] | None = doc["secrets"].get(name)
        if entry is None:
            raise errors.NotFound(f"secret {name} not found")
        return entry

    # -- SecretStore -----------------------------------------------------------------

    def put(self, name: str, value: bytes) -> int:
        check_secret_name(name)
        value = check_secret_value(value)
        with self._locked(exclusive=True):
            doc = self._load()
            versions = doc["secrets"].setdefault(name, {"versions": {}})["versions"]
            version = max((int(v) for v in versions), default=0) + 1
            versions[str(version)] = {**self._seal(value, _ad(name, version)), "enabled": True}
            self._save(doc)
        return version

    def get(self, name: str, version: int | None = None) -> bytes:
        check_secret_name(name)
        if version is not None:
            check_version(version)
        with self._locked(exclusive=False):
            versions = self._entry(self._load(), name)["versions"]
        if version is None:
            enabled = [int(v) for v, rec in versions.items() if rec.get("enabled")]
            if not enabled:
                raise errors.NotFound(f"secret {name} has no enabled version")
            version = max(enabled)
        record = versions.get(str(version))
        if record is None:
            raise errors.NotFound(f"version {version} of secret {name} not found")
        if not record.get("enabled"):
            raise errors.NotFound(f"version {version} of secret {name} is disabled")
        return self._unseal(record, _ad(name, version))

    def versions(self, name: str) -> list[int]:
        check_secret_name(name)
        with self._locked(exclusive=False):
            return sorted(int(v) for v in self._entry(self._load(), name)["versions"])

    def disable(self, name: str, version: int) -> None:
        check_secret_name(name)
        check_version(version)
        with self._locked(exclusive=True):
            doc = self._load()
            record = self._entry(doc, name)["versions"].get(str(version))
            if record is None:
                raise errors.NotFound(f"version {version} of secret {name} not found")
            if record.get("enabled"):
                record["enabled"] = False
                self._save(doc)

    def delete(self, name: str) -> None:
        check_secret_name(name)
        with self._locked(exclusive=True):
            doc = self._load()
            self._entry(doc, name)
            del doc["secrets"][name]
            self._save(doc)

    def list_names(self, prefix: str = "") -> list[str]:
        if not isinstance(prefix, str):
            raise errors.StudioError(errors.BAD_REQUEST, "prefix must be a string")
        with self._locked(exclusive=False):
            names = self._load()["secrets"]
        return sorted(n for n in names if n.startswith(prefix))
