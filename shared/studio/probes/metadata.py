"""Google Cloud's metadata server, over plain HTTP (no client library: the domain layer imports none).

Every Cloud Functions / Cloud Run instance reaches it at ``metadata.google.internal``; tests and the
emulator-backed runtime point ``GCE_METADATA_HOST`` (the variable google-auth honours too) elsewhere.
Short timeouts: a probe on a machine without it must answer quickly that it is not there.
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

TIMEOUT_S = 2.0
_BASE = "/computeMetadata/v1"


class MetadataUnavailable(Exception):
    """The metadata server did not answer, or answered with an error; the message says which."""


def host() -> str:
    return os.environ.get("GCE_METADATA_HOST", "metadata.google.internal")


def get(path: str) -> str:
    request = urllib.request.Request(f"http://{host()}{_BASE}/{path}", headers={"Metadata-Flavor": "Google"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 - fixed http URL
            if response.headers.get("Metadata-Flavor") != "Google":  # a captive portal, not the server
                raise MetadataUnavailable("the answer did not come from a metadata server")
            return str(response.read(65_536).decode())
    except urllib.error.HTTPError as exc:
        raise MetadataUnavailable(f"metadata server answered {exc.code} for {path}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise MetadataUnavailable(f"no metadata server at {host()} ({reason})") from None


def get_json(path: str) -> dict[str, Any]:
    try:
        value = json.loads(get(path))
    except ValueError:
        raise MetadataUnavailable(f"metadata server sent no JSON for {path}") from None
    if not isinstance(value, dict):
        raise MetadataUnavailable(f"metadata server sent no object for {path}")
    return value
