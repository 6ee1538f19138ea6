"""SecretStore on Google Secret Manager (production; STUDIO_SECRETS=gcp).

Mapping to the port: a port secret is a Secret (automatic replication) with the same id, a port version
is a SecretVersion (numbered from 1 by Google). Errors as in the local adapter: a missing secret, a
missing version and a disabled version are all ``errors.NotFound``; bad names are 400 before any call;
everything the caller cannot fix (network, quota, 5xx, credentials, IAM) is 503 ``Unavailable``.
Values never appear in logs or exception messages (Google's messages only hold resource names, and
only the status name is copied).

Why get() does not just access ``versions/latest``: Google's alias is the newest *created* version
whatever its state, so it answers FAILED_PRECONDITION once that version is disabled. get() tries the
alias first (one call in the common case) and only then lists versions for the newest enabled one.

The client is imported and built on first use (cold starts of functions that never read a secret pay
nothing), then cached. Every call has a deadline; only idempotent calls are retried, on transient
errors, within that deadline: a retried addVersion could store the value twice.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from studio.kernel import errors
from studio.ports.secrets import check_secret_name, check_secret_value, check_version


class _Gone(Exception):
    """404 from Google (secret or version)."""


class _Precondition(Exception):
    """400 FAILED_PRECONDITION: the version exists but is disabled or destroyed."""


class _Exists(Exception):
    """409 ALREADY_EXISTS."""


def _status(exc: Any) -> str:
    """Google's canonical status name. gRPC errors carry it; REST errors keep it in the JSON body
    (api_core maps REST errors by HTTP code only, so 400 is BadRequest for every 400 status)."""
    code = getattr(exc, "grpc_status_code", None)
    if code is not None:
        return str(code.name)
    try:
        return str(exc.response.json()["error"]["status"])
    except (AttributeError, KeyError, TypeError, ValueError):
        return ""


def _crc32c(data: bytes) -> int:
    try:
        import google_crc32c
    except ImportError:  # not a declared dependency of google-cloud-secret-manager
        return _crc32c_py(data)
    return int(google_crc32c.value(data))


def _crc32c_py(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def _number(resource_name: str) -> int:
    # Names come back with the project NUMBER: only the last segment is ours to read.
    return int(resource_name.rsplit("/", 1)[1])


class SecretManagerStore:
    def __init__(self, project: str, *, client: Any | None = None, api_endpoint: str | None = None,
                 transport: str = "grpc", credentials: Any | None = None, timeout_s: float = 10.0) -> None:
        if not project:
            raise ValueError("a Google Cloud project is required for Secret Manager")
        self.project = project
        self._client = client
        self._api_endpoint = api_endpoint
        self._transport = transport
        self._credentials = credentials
        self._timeout_s = timeout_s
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SecretManagerStore(project={self.project!r})"

    # -- plumbing ------------------------------------------------------------------------------

    def _secret_path(self, name: str) -> str:
        return f"projects/{self.project}/secrets/{name}"

    def _get_client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    from google.cloud import secretmanager_v1

                    options = {"api_endpoint": self._api_endpoint} if self._api_endpoint else None
                    self._client = secretmanager_v1.SecretManagerServiceClient(
                        credentials=self._credentials, transport=self._transport, client_options=options)
                    # With GOOGLE_SDK_PYTHON_LOGGING_SCOPE set, the client logs request and response
                    # payloads (the secret values) at DEBUG. Set after construction, which configures it.
                    logging.getLogger("google.cloud.secretmanager_v1").setLevel(logging.INFO)
        return self._client

    def _call(self, method: str, *, idempotent: bool, page: bool = False, **request: Any) -> Any:
        """One API call with a deadline, Google's errors turned into ours (or the private markers)."""
        import requests
        from google.api_core import exceptions as gexc
        from google.api_core import retry as gretry
        from google.auth import exceptions as auth_exc

        client = self._get_client()
        retry = gretry.Retry(predicate=gretry.if_transient_error, initial=0.1, maximum=1.0,
                             timeout=self._timeout_s) if idempotent else None
        fn: Callable[..., Any] = getattr(client, method)
        try:
            result = fn(request=request, retry=retry, timeout=self._timeout_s)
            # Pagers fetch later pages lazily: drain them here, inside the error mapping.
            return list(result) if page else result
        except gexc.NotFound:
            raise _Gone() from None
        except gexc.Conflict as exc:
            if _status(exc) == "ALREADY_EXISTS":
                raise _Exists() from None
            raise errors.Unavailable(f"secret manager refused {method} ({_status(exc) or 409})") from None
        except gexc.BadRequest as exc:
            if _status(exc) == "FAILED_PRECONDITION":
                raise _Precondition() from None
            raise errors.StudioError(errors.BAD_REQUEST,
                                     f"secret manager rejected {method} ({_status(exc) or 400})") from None
        except (gexc.GoogleAPIError, requests.RequestException, auth_exc.GoogleAuthError, OSError) as exc:
            # 401/403 (IAM, credentials), 429 (quota), 5xx, timeouts and transport failures.
            status = _status(exc) or type(exc).__name__
            raise errors.Unavailable(f"secret manager unavailable for {method} ({status})") from None

    def _access(self, name: str, ref: str) -> bytes:
        response = self._call("access_secret_version", idempotent=True,
                              name=f"{self._secret_path(name)}/versions/{ref}")
        data = bytes(response.payload.data)
        # Secret Manager stores a CRC32C with every version; a mismatch means corruption in transit.
        if "data_crc32c" in response.payload and response.payload.data_crc32c != _crc32c(data):
            raise errors.Unavailable(f"secret {name} failed its integrity check")
        return data

    def _enabled_versions(self, name: str) -> list[int]:
        listed = self._call("list_secret_versions", idempotent=True, page=True,
                            parent=self._secret_path(name), page_size=25_000)
        return sorted((_number(v.name) for v in listed if v.state.name == "ENABLED"), reverse=True)

    # -- SecretStore -------------------------------------------------------------------------------

    def put(self, name: str, value: bytes) -> int:
        check_secret_name(name)
        value = check_secret_value(value)
        # Google verifies the checksum on receipt, so a corrupted upload is refused, not stored.
        payload = {"data": value, "data_crc32c": _crc32c(value)}
        parent = self._secret_path(name)
        try:
            added = self._call("add_secret_version", idempotent=False, parent=parent, payload=payload)
        except _Gone:
            try:
                self._call("create_secret", idempotent=True, parent=f"projects/{self.project}",
                           secret_id=name, secret={"replication": {"automatic": {}}})
            except _Exists:
                pass  # another writer created it first: fine, we only need it to exist
            try:
                added = self._call("add_secret_version", idempotent=False, parent=parent, payload=payload)
            except _Gone:
                raise errors.Unavailable(f"secret {name} was deleted while being written") from None
        return _number(added.name)

    def get(self, name: str, version: int | None = None) -> bytes:
        check_secret_name(name)
        try:
            if version is not None:
                check_version(version)
                try:
                    return self._access(name, str(version))
                except _Precondition:
                    raise errors.NotFound(f"version {version} of secret {name} is disabled") from None
            try:
                return self._access(name, "latest")
            except _Precondition:
                pass  # the newest version is disabled: fall back to the newest enabled one
            for number in self._enabled_versions(name):
                try:
                    return self._access(name, str(number))
                except _Precondition:
                    continue  # disabled between the list and the access
        except _Gone:
            raise errors.NotFound(f"secret {name} or its version not found") from None
        raise errors.NotFound(f"secret {name} has no enabled version")

    def versions(self, name: str) -> list[int]:
        check_secret_name(name)
        try:
            listed = self._call("list_secret_versions", idempotent=True, page=True,
                                parent=self._secret_path(name), page_size=25_000)
        except _Gone:
            raise errors.NotFound(f"secret {name} not found") from None
        return sorted(_number(v.name) for v in listed)

    def disable(self, name: str, version: int) -> None:
        check_secret_name(name)
        check_version(version)
        try:
            self._call("disable_secret_version", idempotent=True,
                       name=f"{self._secret_path(name)}/versions/{version}")
        except _Gone:
            raise errors.NotFound(f"version {version} of secret {name} not found") from None
        except _Precondition:
            pass  # already not enabled (e.g. destroyed): the port only promises it is unreadable

    def delete(self, name: str) -> None:
        check_secret_name(name)
        try:
            # Not retried: a retry after a lost response would turn success into NotFound.
            self._call("delete_secret", idempotent=False, name=self._secret_path(name))
        except _Gone:
            raise errors.NotFound(f"secret {name} not found") from None

    def list_names(self, prefix: str = "") -> list[str]:
        if not isinstance(prefix, str):
            raise errors.StudioError(errors.BAD_REQUEST, "prefix must be a string")
        # Filtered here: Secret Manager's `name:` filter matches substrings, not prefixes.
        listed = self._call("list_secrets", idempotent=True, page=True,
                            parent=f"projects/{self.project}", page_size=25_000)
        return sorted(n for n in (s.name.rsplit("/", 1)[1] for s in listed) if n.startswith(prefix))
