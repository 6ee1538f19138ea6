"""Page audits: wall time per page per breakpoint and pages per minute per worker, beside one Lighthouse 12
run on the same page; static layout checks in nodes per millisecond (issue 14).

The audit is the worker's own ``run_page`` (Chromium, axe-core, lab metrics, layout at 8 breakpoints,
screenshots) on a fixture page served on loopback, on this machine's 2 cores; the Lighthouse reference is
``lighthouse`` 12 from npm (bench/lighthouse, installed here on first use) with ``CHROME_PATH`` set to the
same Chromium, desktop preset (Lighthouse runs one width). Static checks: a 1,000-node graph at 8 widths.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import INFO, Result, heading, result_rows

HERE = Path(__file__).resolve().parent
LIGHTHOUSE = HERE / "lighthouse"
BREAKPOINTS = [320, 375, 414, 768, 1024, 1280, 1440, 1920]
RUNS = 3


def static_graph(count: int, seed: int = 11) -> dict[str, Any]:
    rng = random.Random(seed)
    nodes = []
    for i in range(count):
        boxes: dict[str, Any] = {}
        for bp in BREAKPOINTS:
            w, h = rng.choice([12, 20, 30, 60, 150, 300]), rng.choice([12, 20, 30, 44, 80])
            boxes[str(bp)] = None if rng.random() < 0.05 else {
                "x": rng.randrange(0, bp), "y": rng.randrange(0, 30 * count), "w": w, "h": h}
        nodes.append({"id": f"#n{i}", "kind": rng.choice(["interactive", "text", "box"]), "boxes": boxes})
    return {"breakpoints": BREAKPOINTS, "nodes": nodes}


def _static(count: int) -> float:
    from studio.audits import layout_checks

    bps, nodes = layout_checks.parse_graph(static_graph(count))
    best = float("inf")
    for _ in range(20):
        started = time.perf_counter()
        layout_checks.check_layout(bps, nodes)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def _audit_once(url: str) -> float:
    from studio.audits.browser import run_page
    from studio.audits.devices import PROFILES

    started = time.perf_counter()
    run = run_page(url, None, {"accessibility", "performance", "layout"}, BREAKPOINTS, PROFILES["desktop"],
                   lambda host, port: "127.0.0.1", lambda stage, fraction: None)
    assert run.axe is not None and len(run.layout) == len(BREAKPOINTS)
    return time.perf_counter() - started


def _lighthouse_once(url: str) -> float | None:
    from studio.audits.browser import chromium_path

    cli = LIGHTHOUSE / "node_modules" / ".bin" / "lighthouse"
    if not cli.exists():
        done = subprocess.run(["npm", "ci" if (LIGHTHOUSE / "package-lock.json").exists() else "install",
                               "--prefix", str(LIGHTHOUSE), "--no-audit", "--no-fund", "--ignore-scripts"],
                              capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0 or not cli.exists():
            print(f"  lighthouse could not be installed: {done.stderr[-300:]}")
            return None
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        done = subprocess.run([str(cli), url, "--preset=desktop", "--output=json", f"--output-path={tmp}/r.json",
                               "--quiet", "--chrome-flags=--headless=new --no-sandbox --disable-gpu "
                               "--disable-background-networking --disable-component-update --no-first-run"],
                              capture_output=True, text=True, timeout=300, check=False,
                              env=dict(os.environ, CHROME_PATH=chromium_path()))
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            print(f"  lighthouse failed: {done.stderr[-300:]}")
            return None
        json.loads(Path(tmp, "r.json").read_text())
    return elapsed


def run(verbose: bool = False) -> list[Result]:
    from tests.support.page_server import page_server

    heading("audits: one page in Chromium at 8 breakpoints vs one Lighthouse 12 run; static layout checks")
    results: list[Result] = []
    with page_server() as base:
        url = base + "/heavy.html"
        _audit_once(url)  # warm: the first launch reads Chromium from disk
        walls = sorted(_audit_once(url) for _ in range(RUNS))
        wall = walls[len(walls) // 2]
        lighthouse = _lighthouse_once(url)
    results.append(Result("audits", "audit wall time, 1 page x 8 breakpoints (a11y+perf+layout)", wall, "s",
                          lighthouse, "lighthouse 12, 1 width, perf+a11y+more" if lighthouse else ""))
    results.append(Result("audits", "audit wall time per page per breakpoint", wall / len(BREAKPOINTS), "s"))
    results.append(Result("audits", "pages per minute per worker (one Chromium at a time, 2 cores)",
                          60 / wall, "pages/min", None if lighthouse is None else 60 / lighthouse,
                          "lighthouse 12" if lighthouse else ""))
    for count in (1_000, 5_000):
        ms = _static(count)
        results.append(Result("audits", f"static layout checks, {count:,} nodes x 8 widths", ms, "ms",
                              note="issue: 1,000 nodes < 50 ms"))
        results.append(Result("audits", f"static layout checks throughput, {count:,} nodes", count / ms,
                              "nodes/ms"))
    print(result_rows(results))
    assert all(r.status == INFO for r in results)
    return results
