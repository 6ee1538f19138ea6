"""The provenance ledger on the SQLite store: what the hash chain costs an append, how fast verify
walks a chain, and what a C2PA signature adds to a derived image.

* append: ``ledger.append_entry`` (head read, entry create, head write, canonical JSON + sha256, the
  domain and meta events) vs the same transaction writing the same entry and head without the chain
  (no canonical JSON, no hash, no events): the ratio is the chain's own cost per append, p50;
* verify: entries per second recomputed by ``verify_chain`` over the chain just written;
* C2PA: ``sign_image`` on a 640 px JPEG vs Pillow encoding that JPEG (the optimiser's own step).

The issue sets no target for these: reported (INFO).
"""
from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Result, heading, median, percentile, result_rows

APPENDS = 500
SIGNS = 20
TENANT, ENV = "t_bench", "dev"


def _record(i: int) -> Any:
    from studio.provenance.models import ProvenanceRecord

    return ProvenanceRecord.model_validate({
        "action": "derive", "actor": {"type": "tool", "id": "media-optimizer"},
        "subject": {"kind": "asset", "id": "as_bench"}, "inputs": [{"kind": "asset", "id": "as_bench", "sha256": "a" * 64}],
        "outputs": [{"kind": "artifact", "id": f"ar_{i:06d}", "sha256": "b" * 64}],
        "params": {"format": "webp", "width": 640, "quality": 80}})


def _plain_append(store: Any, record: Any) -> None:
    """The baseline: the same documents in one transaction, without the chain."""

    def write(tx: Any) -> None:
        head = tx.get(f"tenants/{TENANT}/envs/{ENV}/plain/head")
        seq = (head.data["seq"] if head else 0) + 1
        tx.create(f"tenants/{TENANT}/envs/{ENV}/plain_entries/{seq:012d}", {
            "seq": seq, "action": record.action, "actor": record.actor.model_dump(),
            "subject": record.subject.model_dump(), "inputs": [r.stored() for r in record.inputs],
            "outputs": [r.stored() for r in record.outputs], "params": record.params})
        tx.put(f"tenants/{TENANT}/envs/{ENV}/plain/head", {"seq": seq})

    store.run_transaction(write)


def _timed(fn: Any, n: int) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t0)
    return out


def run(verbose: bool = False) -> list[Result]:
    from PIL import Image

    from studio.adapters.sqlite_store import SqliteStore
    from studio.bootstrap import Deps
    from studio.config import Settings
    from studio.provenance.c2pa_sign import sign_image
    from studio.provenance.ledger import append_entry
    from studio.provenance.verify import verify_chain

    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "store.db")
        chained: list[float] = []
        plain: list[float] = []
        for i in range(APPENDS):  # alternate, so drift hits both alike
            record = _record(i)
            t0 = time.perf_counter()
            append_entry(store, TENANT, ENV, record)
            chained.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            _plain_append(store, record)
            plain.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        report = verify_chain(store, TENANT, ENV)
        verify_s = time.perf_counter() - t0
        assert report["ok"] and report["length"] == APPENDS, report
        results.append(Result("provenance_ledger", "append p50", median(chained) * 1000, "ms",
                              median(plain) * 1000, "same writes, no chain",
                              extra={"p99_ms": percentile(chained, 99) * 1000,
                                     "baseline_p99_ms": percentile(plain, 99) * 1000}))
        results.append(Result("provenance_ledger", f"verify {APPENDS} entries", APPENDS / verify_s, "entries/s"))

        deps = Deps(Settings(data_dir=Path(tmp) / "data"))
        buf = io.BytesIO()
        picture = Image.effect_noise((640, 480), 64).convert("RGB")
        picture.save(buf, "JPEG", quality=80)
        jpeg = buf.getvalue()
        # The first signature generates the chain and loads c2pa: outside the timings.
        sign_image(deps, jpeg, "image/jpeg", title="warm", actions=[{"action": "c2pa.created"}], ingredients=[])

        def encode(_: int) -> None:
            picture.save(io.BytesIO(), "JPEG", quality=80)

        def sign(_: int) -> None:
            sign_image(deps, jpeg, "image/jpeg", title="v", ingredients=[{"sha256": "a" * 64, "relationship": "parentOf"}],
                       actions=[{"action": "c2pa.opened"}, {"action": "c2pa.resized"}])

        results.append(Result("provenance_ledger", "C2PA sign 640 px JPEG p50", median(_timed(sign, SIGNS)) * 1000, "ms",
                              median(_timed(encode, SIGNS)) * 1000, "Pillow encode of it"))
    heading("provenance ledger")
    print(result_rows(results))
    return results


if __name__ == "__main__":
    run()
