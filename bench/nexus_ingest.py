"""Nexus ingest throughput on this machine (2 cores): passages per second through the whole ingest (cut into
atoms, embed with the int8 MiniLM, one transaction of atoms + cards + index), and embeddings per second of
the model alone on the same texts, beside the hashing model (no network, no weights) as the floor.

Input: the labelled set's passages (tests/fixtures/nexus/stdlib_qrels.json), grouped into Markdown
documents of 20 passages each (one section per passage), ingested by ``IngestWorker`` on a SQLite store.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from bench.common import Result, heading, result_rows
from bench.nexus_quality import QRELS

PASSAGES = 400
PER_DOC = 20


def run(verbose: bool = False) -> list[Result]:
    from studio.adapters.local_blobs import LocalBlobStore
    from studio.adapters.local_embeddings import HASHING, MINILM, LocalEmbedder
    from studio.adapters.sqlite_bus import SqliteBus
    from studio.adapters.sqlite_store import SqliteStore
    from studio.kernel.context import Principal, RequestContext
    from studio.kernel.roles import Role
    from studio.nexus.ingest import IngestWorker
    from studio.nexus.raw_docs import RawDocService
    from studio.nexus.settings import SettingsService

    passages = [p["text"] for p in json.loads(QRELS.read_text())["passages"][:PASSAGES]]
    embedder = LocalEmbedder()
    embedder.embed(["warm up the model"], MINILM)
    t0 = time.perf_counter()
    embedder.embed(passages, MINILM)
    model_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    embedder.embed(passages, HASHING)
    hashing_s = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "store.db")
        bus = SqliteBus(Path(tmp) / "bus.db")
        blobs = LocalBlobStore(Path(tmp) / "blobs", base_url="http://127.0.0.1:9", signing_key=b"k" * 32)
        raw = RawDocService(store, embedder, blobs)  # blobs: documents from media assets (none here)
        worker = IngestWorker(store, bus, embedder, SettingsService(store, embedder))
        ctx = RequestContext("t_bench", "dev", Principal("u_bench"), Role.OWNER)
        docs = []
        for start in range(0, len(passages), PER_DOC):
            text = "\n\n".join(f"## Passage {start + i}\n\n{p}" for i, p in enumerate(passages[start:start + PER_DOC]))
            docs.append(raw.submit(ctx, f"Doc {start // PER_DOC}", "markdown", f"# Doc\n\n{text}", []))
        t0 = time.perf_counter()
        atoms = sum((worker.ingest(ctx.tenant_id, ctx.env, d["id"], d["run_id"]) or {}).get("atoms", 0) for d in docs)
        ingest_s = time.perf_counter() - t0
        store.close()

    heading(f"Nexus ingest: {len(passages)} passages in {len(docs)} documents -> {atoms} atoms "
            f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    results = [
        Result("nexus_ingest", "ingest passages/s (whole path)", len(passages) / ingest_s, "/s"),
        Result("nexus_ingest", "ingest atoms/s (whole path)", atoms / ingest_s, "/s"),
        Result("nexus_ingest", "embeddings/s (int8 MiniLM)", len(passages) / model_s, "/s",
               len(passages) / hashing_s, "hashing-384"),
    ]
    print(result_rows(results))
    return results


if __name__ == "__main__":
    run()
