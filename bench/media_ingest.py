"""1,000 small uploads through finalize: throughput, and p50/p99 from finalize to ``ready``.

The local runtime as ``make serve`` runs it (uvicorn, the delivery loop on its own thread), in
this process: each upload is ``POST /media-v2/uploads`` then a PUT of a small PNG (64 x 48, a
different one each) to the signed URL, from 8 client threads. The PUT's answer is the finalize
(the object is durable and its notification queued); ``ready`` is the asset document's last
write, read back from the store at the end. Then 20 uploads one at a time, each waited for: the
latency with no queue ahead. The issue sets no goal: reported.
"""
from __future__ import annotations

import argparse
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.common import Result, free_port, heading, percentile, result_rows

UPLOADS = 1000
CLIENTS = 8
ALONE = 20


def _png(seed: int) -> bytes:
    import io

    from PIL import Image

    im = Image.new("RGB", (64, 48), (seed % 256, (seed // 256) % 256, 120))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _ts(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def run(verbose: bool = False, uploads: int = UPLOADS) -> list[Result]:
    import uvicorn

    from infra.localrun.server import build
    from studio.bootstrap import reset
    from studio.config import Settings
    from studio.media import paths

    heading(f"media ingest: {uploads} small uploads through finalize -> ready")
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        reset()
        platform = build(Settings(data_dir=Path(tmp), public_url=base, llm="echo",  # type: ignore[call-arg]
                                  rate_limit_per_minute=10_000_000, login_max_failures_per_ip=1_000_000))
        server = uvicorn.Server(uvicorn.Config(platform.app, host="127.0.0.1", port=port, log_level="warning",
                                               lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        try:
            with httpx.Client(base_url=base, timeout=60) as c:
                c.post("/auth/signup", json={"email": "ingest@example.com", "password": "Correct-Horse-42"})
                token = c.post("/auth/login", json={"email": "ingest@example.com",
                                                    "password": "Correct-Horse-42"}).json()["access_token"]
                tenant = c.post("/auth/bootstrap", json={"tenant_name": "Bench"},
                                headers={"Authorization": f"Bearer {token}"}).json()["tenant_id"]
            h = {"Authorization": f"Bearer {token}", "X-Tenant-Id": tenant, "X-Env": "dev"}
            bodies = [_png(i) for i in range(uploads)]
            finalized: dict[str, float] = {}
            platform.delivery.start()
            started = time.time()

            def one(i: int, client: httpx.Client) -> None:
                ticket = client.post("/media-v2/uploads", json={"filename": f"b{i}.png", "content_type": "image/png",
                                                                "size_bytes": len(bodies[i])}, headers=h).json()
                r = client.put(ticket["upload_url"], content=bodies[i], headers=ticket["headers"])
                r.raise_for_status()
                finalized[ticket["asset_id"]] = time.time()

            clients = [httpx.Client(base_url=base, timeout=60) for _ in range(CLIENTS)]
            with ThreadPoolExecutor(CLIENTS) as pool:
                list(pool.map(lambda i: one(i, clients[i % CLIENTS]), range(uploads)))
            for client in clients:
                client.close()
            store = platform.deps.store
            deadline = time.time() + 1800
            docs: list[Any] = []
            while time.time() < deadline:
                docs = [store.get(paths.asset(tenant, "dev", a)) for a in finalized]
                if all(d is not None and d.data["status"] in ("ready", "failed") for d in docs):
                    break
                time.sleep(0.5)
            ready = {d.doc_id: _ts(d.update_time) for d in docs if d is not None and d.data["status"] == "ready"}
            # Then one upload at a time (no queue ahead of it): the latency a person dropping one file sees.
            alone: list[float] = []
            with httpx.Client(base_url=base, timeout=60) as client:
                for i in range(ALONE):
                    done_at = {}
                    body = _png(uploads + i)
                    ticket = client.post("/media-v2/uploads", json={"filename": "s.png", "content_type": "image/png",
                                                                    "size_bytes": len(body)}, headers=h).json()
                    client.put(ticket["upload_url"], content=body, headers=ticket["headers"]).raise_for_status()
                    done_at["put"] = time.time()
                    while True:
                        doc = store.get(paths.asset(tenant, "dev", ticket["asset_id"]))
                        if doc is not None and doc.data["status"] in ("ready", "failed"):
                            break
                        time.sleep(0.005)
                    alone.append((_ts(doc.update_time) - done_at["put"]) * 1000)
        finally:
            platform.delivery.stop()
            server.should_exit = True
            thread.join(timeout=10)
            reset()
    if len(ready) != uploads:
        raise RuntimeError(f"only {len(ready)} of {uploads} uploads became ready")
    waits = [(ready[a] - finalized[a]) * 1000 for a in ready]
    elapsed = max(ready.values()) - started
    per_s = uploads / elapsed
    print(f"  {uploads} uploads ready in {elapsed:.1f} s: {per_s:.1f}/s; finalize -> ready p50 "
          f"{percentile(waits, 50):.0f} ms, p99 {percentile(waits, 99):.0f} ms")
    results = [
        Result("media_ingest", f"throughput, {uploads} uploads (upload -> ready)", per_s, "uploads/s"),
        Result("media_ingest", "finalize -> ready p50", percentile(waits, 50), "ms"),
        Result("media_ingest", "finalize -> ready p99", percentile(waits, 99), "ms",
               note="the burst queues behind one local delivery thread"),
        Result("media_ingest", f"one upload at a time, finalize -> ready p50 ({ALONE} uploads)",
               percentile(alone, 50), "ms"),
        Result("media_ingest", "one upload at a time, finalize -> ready p99", percentile(alone, 99), "ms"),
    ]
    print(result_rows(results))
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=UPLOADS)
    run(uploads=parser.parse_args().uploads)
