"""Nexus search p50 and p99 through the whole HTTP path (local runtime, kernel pipeline, auth, tenant,
ranking, card reads, snippets), per mode, over 1,000 cards of the labelled set; beside each, an
authenticated ``GET /nexus/settings`` through the same path as the floor the ratio is taken against."""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench import REPO
from bench.common import Result, heading, percentile, result_rows
from bench.nexus_quality import QRELS

if str(REPO) not in sys.path:  # tests.support lives at the repository root
    sys.path.insert(0, str(REPO))

CARDS = 1_000
QUERIES = 100


def run(verbose: bool = False) -> list[Result]:
    import httpx

    from tests.support.api import new_tenant, new_user
    from tests.support.platform import start_platform

    data = json.loads(QRELS.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        platform = start_platform(Path(tmp), rate_limit_per_minute=10_000_000)
        try:
            with httpx.Client(base_url=platform.base_url, timeout=60) as c:
                owner = new_user(c, "bench")
                h = owner.in_tenant(new_tenant(c, owner, "Bench"))
                passages = data["passages"][:CARDS]
                for start in range(0, len(passages), 50):
                    items = [{"title": f"Passage {p['id']}", "text": p["text"]} for p in passages[start:start + 50]]
                    assert c.post("/vector-explorer/ingest", json={"items": items}, headers=h).status_code == 201
                queries = [q["text"] for q in data["queries"][:QUERIES]]

                def timed(path: str, params: dict[str, str] | None = None) -> float:
                    t0 = time.perf_counter()
                    r = c.get(path, params=params, headers=h)
                    assert r.status_code == 200, r.text
                    return (time.perf_counter() - t0) * 1000

                for mode in ("keyword", "vector", "hybrid"):  # warm: the indexes load on first use
                    timed("/nexus/search", {"q": "warm up", "mode": mode})
                floor = [timed("/nexus/settings") for _ in range(QUERIES)]
                per_mode = {mode: [timed("/nexus/search", {"q": q, "mode": mode, "k": "10"}) for q in queries]
                            for mode in ("keyword", "vector", "hybrid")}
        finally:
            platform.stop()
    heading(f"Nexus search through HTTP: {QUERIES} queries per mode over {CARDS:,} cards "
            f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    results = []
    for mode, times in per_mode.items():
        results.append(Result("nexus_search", f"{mode} p50", percentile(times, 50), "ms", percentile(floor, 50),
                              "GET /nexus/settings p50"))
        results.append(Result("nexus_search", f"{mode} p99", percentile(times, 99), "ms", percentile(floor, 99),
                              "GET /nexus/settings p99"))
    print(result_rows(results))
    return results


if __name__ == "__main__":
    run()
