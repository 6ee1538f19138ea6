"""The blob port on Google Cloud Storage (production; the local stand-in is ``local_blobs``).

Buckets. The port speaks of bucket *roles* ("uploads", "renders"); ``bucket_names`` maps a role to
the real bucket Terraform made (default: the role itself). Names are checked by the port's shared
validators before any call, so bad names are the same 400 as on the local adapter, and
``BlobInfo.bucket`` is the role the caller used.

Writes. ``put`` is one request up to ``resumable_threshold`` (a multipart upload), above it a
resumable upload in ``chunk_size`` pieces, so a dropped connection costs one chunk, not the
object. Both carry ``ifGenerationMatch`` when given; GCS answers 412 and the adapter raises
``errors.RevisionConflict(current generation, status=412)`` as the local adapter does.
``resumable_upload_url`` opens a session for a browser to upload big files itself.

Reads. ``get`` reads the metadata, then downloads exactly that generation: data and ``BlobInfo``
always belong together, and an overwrite in between is retried.

Signed URLs (V4). With a credential that holds a key (a service-account key, as in tests) the URL
is signed locally. On Cloud Functions there is no key: the function's own service account signs
through IAM ``signBlob`` (the library is given ``service_account_email`` + a fresh
``access_token``), which needs ``roles/iam.serviceAccountTokenCreator`` granted to that service
account *on itself*, plus the object role the URL grants (objectViewer for GET, objectCreator or
objectUser for PUT) and the IAM Credentials API enabled.

API calls against a plain-http endpoint (an emulator) are anonymous; ``credentials`` then only
sign. The client is imported and built on first use (cold start) and cached. Every call has a
timeout and ``retry=None`` unless a retry is configured: callers above retry whole operations.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from studio.kernel import errors
from studio.ports.blobs import (
    LENGTH_RANGE_HEADER,
    BlobInfo,
    check_bucket,
    check_content_type,
    check_generation_match,
    check_max_bytes,
    check_object_name,
    check_signed_request,
    upload_headers,
)

DEFAULT_CONTENT_TYPE = "application/octet-stream"
_CHUNK_UNIT = 256 * 1024  # GCS needs resumable chunks in multiples of 256 KiB
_GET_ATTEMPTS = 3


def _rfc3339(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@contextmanager
def _mapped(what: str) -> Iterator[None]:
    """GCS errors as studio errors. 404 and bad requests are the caller's; the rest is an outage."""
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as auth_exc
    from requests import exceptions as http_exc

    try:
        yield
    except gexc.NotFound:
        raise errors.NotFound(f"{what} not found") from None
    except gexc.BadRequest as exc:
        raise errors.StudioError(errors.BAD_REQUEST, f"Cloud Storage refused {what}") from exc
    except gexc.GoogleAPICallError as exc:  # 401/403 (IAM), 429, 5xx: nothing the caller can fix
        raise errors.Unavailable(f"Cloud Storage {what}: {exc.code} {type(exc).__name__}") from None
    except (gexc.GoogleAPIError, auth_exc.GoogleAuthError, http_exc.RequestException) as exc:
        raise errors.Unavailable(f"Cloud Storage {what}: {type(exc).__name__}") from None


class GcsBlobStore:
    """``studio.ports.blobs.BlobStore`` on Cloud Storage. Thread-safe."""

    def __init__(
        self,
        project: str,
        *,
        client: Any | None = None,
        credentials: Any | None = None,
        api_endpoint: str | None = None,
        bucket_names: Mapping[str, str] | None = None,
        timeout_s: float = 30.0,
        retry: Any | None = None,
        resumable_threshold: int = 8 * 1024 * 1024,
        chunk_size: int = 8 * 1024 * 1024,
        signer_email: str | None = None,
    ) -> None:
        if chunk_size <= 0 or chunk_size % _CHUNK_UNIT:
            raise ValueError("chunk_size must be a positive multiple of 256 KiB")
        self.project = project
        self.api_endpoint = api_endpoint
        self._client = client
        self._credentials = credentials
        self._bucket_names = dict(bucket_names or {})
        self._timeout_s = timeout_s
        self._retry = retry  # e.g. google.cloud.storage.retry.DEFAULT_RETRY.with_timeout(60)
        self._threshold = resumable_threshold
        self._chunk_size = chunk_size
        self._signer_email = signer_email  # default: the credential's own service account
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GcsBlobStore(project={self.project!r}, buckets={self._bucket_names!r})"

    # -- client, names, metadata --------------------------------------------------------

    def _gcs(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make_client()
        return self._client

    def _make_client(self) -> Any:
        import google.cloud.storage as storage

        options = {"api_endpoint": self.api_endpoint} if self.api_endpoint else None
        if self.api_endpoint and self.api_endpoint.startswith("http://"):
            # Plain http can only be an emulator: never send a token over it.
            from google.auth.credentials import AnonymousCredentials

            anonymous = AnonymousCredentials()  # type: ignore[no-untyped-call]  # google-auth: __init__ unannotated
            return storage.Client(project=self.project, credentials=anonymous, client_options=options)
        if self._credentials is None:
            import google.auth

            self._credentials, _ = google.auth.default(
                scopes=["https://www.googleapis.com/auth/cloud-platform"])  # also covers IAM signBlob
        return storage.Client(project=self.project, credentials=self._credentials, client_options=options)

    def bucket_name(self, role: str) -> str:
        return self._bucket_names.get(check_bucket(role), role)

    def _blob(self, role: str, name: str, **kwargs: Any) -> Any:
        check_object_name(name)
        return self._gcs().bucket(self.bucket_name(role)).blob(name, **kwargs)

    @staticmethod
    def _info(role: str, blob: Any) -> BlobInfo:
        return BlobInfo(
            bucket=role, name=blob.name, size=int(blob.size or 0),
            content_type=blob.content_type or DEFAULT_CONTENT_TYPE, generation=int(blob.generation),
            md5_b64=blob.md5_hash or "",  # composite objects have none
            crc32c_b64=blob.crc32c or "", updated=_rfc3339(blob.updated),
        )

    def _conflict(self, role: str, name: str) -> errors.RevisionConflict:
        current = self.stat(role, name)
        return errors.RevisionConflict(current.generation if current else 0, status=412)

    def _call(self) -> dict[str, Any]:
        return {"timeout": self._timeout_s, "retry": self._retry}

    # -- the port ---------------------------------------------------------------------

    def put(
        self, bucket: str, name: str, data: bytes, content_type: str = DEFAULT_CONTENT_TYPE,
        *, if_generation_match: int | None = None,
    ) -> BlobInfo:
        check_generation_match(if_generation_match)
        check_content_type(content_type)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise errors.StudioError(errors.BAD_REQUEST, "blob data must be bytes")
        data = bytes(data)
        resumable = len(data) > self._threshold
        blob = self._blob(bucket, name, chunk_size=self._chunk_size if resumable else None)
        from google.api_core import exceptions as gexc

        with _mapped(f"object {bucket}/{name}"):
            try:
                blob.upload_from_string(data, content_type=content_type,
                                        if_generation_match=if_generation_match, **self._call())
            except gexc.PreconditionFailed:
                raise self._conflict(bucket, name) from None
        return self._info(bucket, blob)

    def get(self, bucket: str, name: str) -> tuple[bytes, BlobInfo]:
        from google.api_core import exceptions as gexc

        for _ in range(_GET_ATTEMPTS):
            info = self.stat(bucket, name)
            if info is None:
                break
            pinned = self._blob(bucket, name, generation=info.generation)
            with _mapped(f"object {bucket}/{name}"):
                try:
                    return pinned.download_as_bytes(**self._call()), info
                except gexc.NotFound:
                    continue  # overwritten or deleted since the metadata read: look again
        raise errors.NotFound(f"object {bucket}/{name} not found")

    def stat(self, bucket: str, name: str) -> BlobInfo | None:
        blob = self._blob(bucket, name)  # validates before any call
        with _mapped(f"object {bucket}/{name}"):
            found = blob.bucket.get_blob(name, **self._call())
        return None if found is None else self._info(bucket, found)

    def delete(self, bucket: str, name: str, *, if_generation_match: int | None = None) -> None:
        check_generation_match(if_generation_match)
        blob = self._blob(bucket, name)
        from google.api_core import exceptions as gexc

        with _mapped(f"object {bucket}/{name}"):
            try:
                blob.delete(if_generation_match=if_generation_match, **self._call())
            except gexc.PreconditionFailed:
                raise self._conflict(bucket, name) from None

    def list_blobs(self, bucket: str, prefix: str = "", limit: int = 1000) -> list[BlobInfo]:
        check_bucket(bucket)
        if not isinstance(prefix, str):
            raise errors.StudioError(errors.BAD_REQUEST, "prefix must be a string")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise errors.StudioError(errors.BAD_REQUEST, "limit must be a positive integer")
        with _mapped(f"bucket {bucket}"):
            # GCS lists in UTF-8 byte order, the order the port promises.
            pages = self._gcs().list_blobs(self.bucket_name(bucket), prefix=prefix or None, max_results=limit,
                                           page_size=min(limit, 1000), **self._call())
            return [self._info(bucket, blob) for blob in pages]

    # -- URLs for clients ------------------------------------------------------------------

    def signed_url(
        self, bucket: str, name: str, *, method: str = "GET", expires_s: int = 900, content_type: str | None = None,
        max_bytes: int | None = None,
    ) -> str:
        method = check_signed_request(method, expires_s, content_type)
        check_max_bytes(max_bytes)
        blob = self._blob(bucket, name)
        kwargs: dict[str, Any] = {"version": "v4", "method": method, "expiration": timedelta(seconds=expires_s)}
        if method == "PUT" and content_type:
            kwargs["content_type"] = content_type  # a signed header: the upload must send exactly it
        if method == "PUT" and max_bytes is not None:  # a signed header: GCS refuses a larger body itself
            kwargs["headers"] = {LENGTH_RANGE_HEADER: upload_headers(None, max_bytes)[LENGTH_RANGE_HEADER]}
        with _mapped(f"signing {bucket}/{name}"):
            kwargs.update(self._signer())
            return str(blob.generate_signed_url(**kwargs))

    def _signer(self) -> dict[str, Any]:
        """Sign with a key when the credential has one, else through IAM signBlob (keyless)."""
        self._gcs()  # resolves default credentials in production
        credentials = self._credentials
        if credentials is None:
            raise errors.Unavailable("no credentials to sign URLs with")
        if hasattr(credentials, "sign_bytes") and getattr(credentials, "signer_email", None):
            return {"credentials": credentials}
        import google.auth.transport.requests

        with self._lock:  # one token refresh at a time
            if not credentials.valid:
                credentials.refresh(google.auth.transport.requests.Request())
            token = credentials.token
        # Compute Engine credentials learn their email on refresh ("default" before).
        email = self._signer_email or getattr(credentials, "service_account_email", None)
        if not email or email == "default":
            raise errors.Unavailable("cannot tell which service account signs URLs: set signer_email")
        return {"service_account_email": email, "access_token": token}

    def resumable_upload_url(
        self, bucket: str, name: str, *, content_type: str = DEFAULT_CONTENT_TYPE, size: int | None = None,
        origin: str | None = None, if_generation_match: int | None = None,
    ) -> str:
        """A resumable upload session for a client to PUT the bytes to (in chunks, resuming after a
        drop). The URL itself is the credential, valid for a week: hand it only to the uploader.
        ``origin`` enables CORS for a browser on that origin."""
        check_content_type(content_type)
        check_generation_match(if_generation_match)
        blob = self._blob(bucket, name)
        with _mapped(f"upload session {bucket}/{name}"):
            return str(blob.create_resumable_upload_session(
                content_type=content_type, size=size, origin=origin, if_generation_match=if_generation_match,
                checksum=None, **self._call()))  # the library never sees the bytes: nothing to check


def finalize_envelope(message: Any) -> dict[str, Any]:
    """The Eventarc ``object.v1.finalized`` CloudEvent for a Cloud Storage Pub/Sub notification
    (``payloadFormat=JSON_API_V1``, as buckets send and fake-gcs-server imitates): what Eventarc
    does for a storage trigger, for code that pulls the notification topic itself."""
    from studio.kernel import cloudevents

    attrs = message.attributes
    if attrs.get("eventType") != "OBJECT_FINALIZE" or attrs.get("payloadFormat") != "JSON_API_V1":
        raise errors.StudioError(errors.BAD_REQUEST, "not a JSON_API_V1 OBJECT_FINALIZE notification")
    try:
        obj = json.loads(message.data)
        return cloudevents.storage_envelope(
            bucket=obj["bucket"], name=obj["name"], size=int(obj["size"]),
            content_type=obj.get("contentType") or DEFAULT_CONTENT_TYPE, generation=int(obj["generation"]),
            md5_b64=obj.get("md5Hash", ""), crc32c_b64=obj.get("crc32c", ""), time=obj["updated"],
            event_id=message.message_id)
    except (KeyError, TypeError, ValueError) as exc:
        raise errors.StudioError(errors.BAD_REQUEST, "malformed storage notification") from exc
