"""The signed-URL endpoint that stands in for storage.googleapis.com when everything runs on
one machine: GET and PUT (single or resumable) on ``/_blobs/{bucket}/{name}`` for a
``LocalBlobStore``, answering problem+json like every other route."""
from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from studio.adapters.local_blobs import (
    DEFAULT_CONTENT_TYPE,
    DEFAULT_MAX_UPLOAD,
    LocalBlobStore,
    is_small_number,
)
from studio.kernel import errors
from studio.kernel.problems import problem_response
from studio.ports.blobs import BlobInfo, check_bucket, check_object_name

log = logging.getLogger(__name__)


def _object_from_path(request: Request) -> tuple[str, str]:
    # script_root + path: works mounted at "/" or under a dispatcher at "/_blobs".
    _, found, rest = (request.script_root + request.path).partition("/_blobs/")
    bucket, slash, name = rest.partition("/")
    if not found or not slash or not name:
        raise errors.StudioError(errors.ROUTE_NOT_FOUND, "expected /_blobs/{bucket}/{name}")
    return check_bucket(bucket), check_object_name(name)


def _object_headers(resp: Response, info: BlobInfo) -> Response:
    resp.set_etag(base64.b64decode(info.md5_b64).hex())
    resp.headers["x-goog-generation"] = str(info.generation)
    resp.headers["x-goog-hash"] = f"crc32c={info.crc32c_b64},md5={info.md5_b64}"
    return resp


def signed_blob_wsgi_app(
    store: LocalBlobStore, on_finalize: Callable[[BlobInfo], None] | None = None, *, max_bytes: int = DEFAULT_MAX_UPLOAD
) -> Callable[..., object]:
    """WSGI app for GET/PUT on ``/_blobs/{bucket}/{name}`` with signed URLs.

    ``on_finalize(info)`` runs after a PUT is durable, like GCS's object.finalize.
    It should enqueue, not do work: an exception there is logged, and the upload
    still succeeds (on GCS the event is delivered independently of the upload).
    """

    def handle(request: Request) -> Response:
        bucket, name = _object_from_path(request)
        if request.method not in ("GET", "PUT"):
            raise errors.StudioError(errors.METHOD_NOT_ALLOWED, headers={"Allow": "GET, PUT"})
        if request.method == "PUT" and "upload_id" in request.args:
            return resumable(request, bucket, name)
        bound = store.verify_signed(request.method, bucket, name, request.args, request.headers.get("Content-Type"))
        if request.method == "GET":
            data, info = store.get(bucket, name)
            resp = Response(data, content_type=info.content_type)
            # Uploaded content is untrusted: never let a browser render it as this origin.
            resp.headers["X-Content-Type-Options"] = "nosniff"
            resp.headers["Content-Security-Policy"] = "sandbox"
            return _object_headers(resp, info)
        raw_match = request.headers.get("x-goog-if-generation-match")
        if raw_match is not None and not is_small_number(raw_match):
            raise errors.StudioError(errors.BAD_REQUEST, "x-goog-if-generation-match must be an integer")
        limit = max_bytes if bound is None else min(bound, max_bytes)
        request.max_content_length = limit  # a signed bound refuses a larger body, as GCS's length range does
        try:
            data = request.get_data(cache=False)
        except RequestEntityTooLarge:
            raise errors.StudioError(errors.PAYLOAD_TOO_LARGE, f"this upload is limited to {limit} bytes") from None
        if len(data) > limit:  # a chunked body has no Content-Length for werkzeug to check first
            raise errors.StudioError(errors.PAYLOAD_TOO_LARGE, f"this upload is limited to {limit} bytes")
        content_type = request.headers.get("Content-Type") or DEFAULT_CONTENT_TYPE
        match = int(raw_match) if raw_match is not None else None
        info = store.put(bucket, name, data, content_type, if_generation_match=match)
        return finalized(info)

    def finalized(info: BlobInfo) -> Response:
        if on_finalize is not None:
            try:
                on_finalize(info)  # queues the finalize event (durably); it does not run the handler
            except Exception as exc:  # noqa: BLE001 - returned, not swallowed: the client retries the upload
                log.exception("on_finalize failed for %s/%s generation %s", info.bucket, info.name, info.generation)
                raise errors.Unavailable("stored, but the upload notification could not be queued: retry") from exc
        return _object_headers(Response(json.dumps(asdict(info)), content_type="application/json"), info)

    def resumable(request: Request, bucket: str, name: str) -> Response:
        request.max_content_length = max_bytes  # per chunk; the session bounds the whole
        try:
            data = request.get_data(cache=False)
        except RequestEntityTooLarge:
            raise errors.StudioError(errors.PAYLOAD_TOO_LARGE, f"chunks are limited to {max_bytes} bytes") from None
        held, info = store.resumable_put(bucket, name, request.args, request.headers.get("Content-Range"), data)
        if info is None:  # "resume incomplete": what the session holds, for the client to go on from
            resp = Response(status=308)
            if held:
                resp.headers["Range"] = f"bytes=0-{held - 1}"
            return resp
        return finalized(info)

    @Request.application
    def app(request: Request) -> Response:
        try:
            return handle(request)
        except errors.StudioError as err:
            request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
            return problem_response(err, instance=request.path, request_id=request_id)

    return app
