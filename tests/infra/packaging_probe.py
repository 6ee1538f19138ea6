"""Run INSIDE a function's clean venv, in the folder its zip was extracted to (not a test
module: tests/infra/test_packaging.py starts it with ``python -I``, so nothing of the repo is
importable). Loads the entrypoint as Cloud Functions does (functions_framework.create_app),
answers one request and prints a JSON line: HTTP functions get their health route and the
first route prefix; event functions get the CloudEvent Eventarc would send, in binary mode.

    python -I packaging_probe.py NAME KIND ENTRYPOINT TARGET ROUTE
"""
from __future__ import annotations

import base64
import json
import os
import sys


def _binary(envelope: dict, body: bytes, content_type: str) -> tuple[dict[str, str], bytes]:
    headers = {f"ce-{k}": str(v) for k, v in envelope.items() if k not in ("data", "datacontenttype")}
    headers["Content-Type"] = content_type
    return headers, body


def event_request(kind: str, target: str) -> tuple[dict[str, str], bytes]:
    from studio.kernel import cloudevents
    from studio.ports.bus import BusMessage

    now = "2026-01-02T03:04:05.678Z"
    if kind == "pubsub":
        body = {"id": "ev_probe", "type": "probe.delivered", "tenant_id": "t_probe", "env": "dev",
                "subject": "probes/1", "time": now, "data": {}}
        message = BusMessage("1234567890", target, json.dumps(body).encode(), {"tenant": "t_probe", "env": "dev",
                             "type": "probe.delivered"}, "", now)
        envelope = cloudevents.pubsub_envelope(message, project="studio-probe", subscription="eventarc-probe-sub")
        return _binary(envelope, json.dumps(envelope["data"]).encode(), "application/json")
    if kind == "storage":
        envelope = cloudevents.storage_envelope(
            bucket=f"studio-probe-{target}", name="probe/hello.txt", size=5, content_type="text/plain",
            generation=1, md5_b64=base64.b64encode(b"0" * 16).decode(), crc32c_b64="AAAAAA==", time=now,
            event_id="probe-1")
        return _binary(envelope, json.dumps(envelope["data"]).encode(), "application/json")
    if kind == "firestore":  # Eventarc sends Firestore events as protobuf; an empty message is valid
        envelope = {"specversion": "1.0", "type": "google.cloud.firestore.document.v1.created",
                    "source": "//firestore.googleapis.com/projects/studio-probe/databases/(default)",
                    "subject": f"documents/{target}/probe-1", "id": "probe-1", "time": now,
                    "database": "(default)", "namespace": "(default)", "document": f"{target}/probe-1"}
        return _binary(envelope, b"", "application/protobuf")
    raise SystemExit(f"no probe for trigger kind {kind!r}")


def main() -> None:
    name, kind, entrypoint, target, route = sys.argv[1:6]
    here = os.getcwd()
    import functions_framework

    app = functions_framework.create_app(entrypoint, os.path.join(here, "main.py"))
    app.config["PROPAGATE_EXCEPTIONS"] = True  # an exception reaches us instead of a bare 500
    import studio

    result: dict = {"studio": os.path.relpath(studio.__file__, here)}
    client = app.test_client()
    if kind == "http":
        result["healthz"] = client.get(f"/healthz/{name}").status_code
        result["route"] = client.get(route).status_code
    else:
        from studio.kernel.errors import StudioError

        headers, body = event_request(kind, target)
        try:
            result["status"] = client.post("/", data=body, headers=headers).status_code
        except StudioError as exc:  # refused on purpose (problem code), not a crash or a missing import
            result["handled_error"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
