"""Experiment assignments per second: in process (studio.experiments.assignment) beside the
growthbook SDK in process, and through OFREP's bulk evaluation over HTTP. Reported (the issue sets
no target).

In process, both sides assign the same subjects (ids with ASCII, accents, CJK and emoji) to the same
experiment: three weighted variations, 90% coverage, a namespace slice, hash v2; then the same with a
targeting condition (both evaluate it with growthbook's evalCondition). The SDK side reuses one
``GrowthBook`` per subject set, calling ``set_attributes`` then ``run``: its fastest server-side use.

Over HTTP, the local runtime (``infra.localrun.server.build``, the stack of ``make serve``) is served
by uvicorn in this process; a tenant has four running experiments, each behind a flag, and one
``POST /ofrep/v1/evaluate/flags`` per subject evaluates the four (four assignments). First visits
write each subject's sticky assignments and exposures (one store transaction per experiment); return
visits only read them. Client threads share the process (and the GIL) with the server.
"""
from __future__ import annotations

import argparse
import logging
import os
import random
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import Result, fmt_num, fmt_ratio, free_port, heading, result_rows, table

SUBJECTS = 50_000
HTTP_SUBJECTS = 600
THREADS = 4
EXPERIMENTS = 4
CONDITION = {"country": {"$in": ["DE", "FR", "NL"]}, "plan": {"$ne": "free"}}


def _subjects(n: int) -> list[dict[str, Any]]:
    rng = random.Random(13)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789àéü中文🚀"
    return [{"id": "".join(rng.choice(alphabet) for _ in range(12)) + str(i),
             "country": rng.choice(["DE", "FR", "US", "NL"]), "plan": rng.choice(["free", "pro"])} for i in range(n)]


def in_process(subjects: list[dict[str, Any]], condition: dict[str, Any] | None) -> tuple[float, float]:
    """(ours, growthbook) assignments per second on the same subjects; agreement is asserted."""
    from growthbook import Experiment, GrowthBook

    from studio.experiments import assignment

    weights = [0.2, 0.3, 0.5]
    defn = assignment.Definition("bench-exp", ("a", "b", "c"), weights, coverage=0.9,
                                 namespace=assignment.Namespace("bench", 0.0, 0.8), condition=condition)
    gb_exp = Experiment(key="bench-exp", variations=[0, 1, 2], weights=weights, coverage=0.9,
                        namespace=("bench", 0.0, 0.8), condition=condition, hashVersion=2)
    gb = GrowthBook(attributes={})
    assignment.assign(defn, subjects[0])  # the condition evaluator's lazy import, out of the timing
    start = time.perf_counter()
    ours = [assignment.assign(defn, s).variation for s in subjects]
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    theirs = []
    for s in subjects:
        gb.set_attributes(s)
        r = gb.run(gb_exp)
        theirs.append(r.variationId if r.inExperiment else -1)
    theirs_s = time.perf_counter() - start
    if ours != theirs:
        raise RuntimeError("in-process assignments differ from the growthbook SDK's")
    return len(subjects) / ours_s, len(subjects) / theirs_s


def _setup(client: httpx.Client) -> str:
    from tests.support.api import new_tenant, new_user

    owner = new_user(client, "bench-exp")
    tenant = new_tenant(client, owner)
    h = owner.in_tenant(tenant)
    for i in range(EXPERIMENTS):
        r = client.post("/experiments", headers=h, json={
            "key": f"bench-{i}", "coverage": 0.9,
            "variations": [{"key": "a", "value": 1, "weight": 0.2}, {"key": "b", "value": 2, "weight": 0.3},
                           {"key": "c", "value": 3, "weight": 0.5}]})
        exp = r.json()
        client.patch(f"/experiments/{exp['id']}", json={"status": "running", "base_rev": 1}, headers=h)
        client.post("/flags", headers=h, json={"key": f"bench-{i}", "default_value": 0,
                                               "rules": [{"kind": "experiment", "experiment_id": exp["id"]}]})
        client.patch(f"/flags/bench-{i}", json={"status": "running", "base_rev": 1}, headers=h)
    return str(client.post("/flags/sdk-keys", json={"name": "bench"}, headers=h).json()["key"])


def _bulk(base_url: str, key: str, subjects: list[str]) -> float:
    """Seconds to evaluate every subject's flags once, spread over THREADS clients."""
    chunks = [subjects[i::THREADS] for i in range(THREADS)]
    errors: list[str] = []

    def worker(chunk: list[str]) -> None:
        with httpx.Client(base_url=base_url, timeout=60, headers={"Authorization": f"Bearer {key}"}) as c:
            for subject in chunk:
                r = c.post("/ofrep/v1/evaluate/flags", json={"context": {"targetingKey": subject}})
                if r.status_code != 200 or len(r.json()["flags"]) != EXPERIMENTS:
                    errors.append(f"{r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"OFREP bulk failed: {errors[0]}")
    return elapsed


def over_http(n: int) -> tuple[float, float]:
    """(first-visit, return-visit) assignments per second through OFREP bulk."""
    from infra.localrun.server import build
    from studio.bootstrap import reset
    from studio.config import Settings
    from studio.kernel import logs
    from tests.support.platform import serve_in_thread

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    devnull = open(os.devnull, "w")  # closed in finally
    with tempfile.TemporaryDirectory(prefix="bench-exp-") as tmp:
        reset()
        platform = build(Settings(data_dir=Path(tmp), public_url=base_url, rate_limit_per_minute=1_000_000_000))
        logs.configure()
        for handler in root.handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(devnull)
        server, thread = serve_in_thread(platform.app, port)
        try:
            with httpx.Client(base_url=base_url, timeout=60) as client:
                key = _setup(client)
            subjects = [f"visitor-{i}-ü" for i in range(n)]
            _bulk(base_url, key, [f"warm-{i}" for i in range(40)])
            first = _bulk(base_url, key, subjects)
            again = _bulk(base_url, key, subjects)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            root.handlers, root.level = saved_handlers, saved_level
            devnull.close()
            reset()
    return n * EXPERIMENTS / first, n * EXPERIMENTS / again


def run(verbose: bool = False, subjects: int = SUBJECTS, http_subjects: int = HTTP_SUBJECTS) -> list[Result]:
    heading("experiments: assignments per second, in process beside the growthbook SDK, and through OFREP bulk")
    people = _subjects(subjects)
    plain = in_process(people, None)
    targeted = in_process(people, CONDITION)
    first, again = over_http(http_subjects)
    print(f"  in process: {subjects:,} subjects, one experiment (3 variations, coverage 0.9, namespace); "
          f"OFREP: {http_subjects} subjects x {EXPERIMENTS} experiments, {THREADS} client threads", flush=True)
    print(table(["path", "ours", "growthbook SDK", "ratio"], [
        ["in process", fmt_num(plain[0], "/s"), fmt_num(plain[1], "/s"), fmt_ratio(plain[0] / plain[1])],
        ["in process, with a condition", fmt_num(targeted[0], "/s"), fmt_num(targeted[1], "/s"),
         fmt_ratio(targeted[0] / targeted[1])],
        ["OFREP bulk, first visits", fmt_num(first, "/s"), "-", "-"],
        ["OFREP bulk, return visits", fmt_num(again, "/s"), "-", "-"],
    ]), flush=True)
    sdk = "growthbook SDK in process"
    return [
        Result("experiments_assign", "in-process assignments/s", plain[0], "/s", plain[1], sdk, None),
        Result("experiments_assign", "in-process assignments/s (condition)", targeted[0], "/s", targeted[1], sdk,
               None),
        Result("experiments_assign", "OFREP bulk assignments/s, first visits", first, "/s", plain[1], sdk, None,
               note="HTTP + SDK-key check + sticky and exposure writes"),
        Result("experiments_assign", "OFREP bulk assignments/s, return visits", again, "/s", plain[1], sdk, None,
               note="HTTP + sticky reads"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=SUBJECTS)
    parser.add_argument("--http-subjects", type=int, default=HTTP_SUBJECTS)
    args = parser.parse_args()
    print(result_rows(run(subjects=args.subjects, http_subjects=args.http_subjects)))


if __name__ == "__main__":
    main()
