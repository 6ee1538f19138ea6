"""Cold start per function (process start to first 200, and to the first authenticated 200) vs a
bare functions-framework hello world: goals <= 1.3x (health) and <= 1.5x (first authenticated).

Every HTTP function of functions/manifest.yaml is started as Cloud Functions starts it,
``functions-framework --target <entrypoint> --source functions/<name>/main.py`` (gunicorn,
as the framework picks when it is installed), in a fresh process; the clock runs from
``Popen`` until ``GET /healthz/<name>`` first answers 200 (polled every 5 ms). The
baseline is bench/fixtures/hello/main.py started the same way. Runs alternate between
targets (and rotate their order) so noise spreads evenly; the figure is the median.

Two figures per function: to the health route (``/healthz/<name>``, no token, no routes loaded:
decision 0014, goal 1.3x) and to the first authenticated GET (the function's first route needing
only the tenant: its routes, models, the token check and a store read load on it; issue 15's bar,
1.5x, decisions 0081-0083 and 0097-0099). Each is printed with its ratio to the hello world and PASS/MISS.

Data: each run gets a fresh copy of a pre-initialised data dir (schema created, signing
key made), because on GCP the database already exists when an instance starts. The
health route touches no adapter anyway; what a cold start pays here is interpreter start,
imports, framework + gunicorn start and the first request through the kernel.
Bytecode: the children write and read ``.pyc`` under a private PYTHONPYCACHEPREFIX (even
when the caller sets PYTHONDONTWRITEBYTECODE, and without writing into the repo); one
untimed warm-up start per target fills it and warms the page cache, for the functions and
the baseline alike, as in a built image. ``--no-bytecode-cache`` measures compiling every
module from source on each start instead.
"""
from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import REPO, SHARED
from bench.common import Result, fmt_num, fmt_ratio, free_port, heading, median, result_rows, table

GOAL = 1.3  # health route (decision 0014)
FIRST_GOAL = 1.5  # first authenticated request (issue 15 item 5)
RUNS = 5
POLL_S = 0.005
START_TIMEOUT_S = 60.0
HELLO = REPO / "bench" / "fixtures" / "hello" / "main.py"


@dataclass(frozen=True)
class Target:
    name: str
    entrypoint: str
    source: Path
    real_path: str = "/"  # an authenticated GET that loads the routes, models, token check and store

    @property
    def health_path(self) -> str:
        return f"/healthz/{self.name}"  # the hello world answers "ok" on every path


def _real_path(spec: object) -> str:
    """The function's first authenticated GET needing no path parameter but the tenant."""
    from infra.localrun import loader
    from studio.kernel.routing import Access

    for route in loader.http_app(spec).table.routes:  # type: ignore[arg-type]
        if route.method == "GET" and route.access is not Access.PUBLIC and set(route.params) <= {"tenant_id"}:
            return route.path
    raise RuntimeError(f"{spec} has no authenticated GET route to time")


def targets() -> list[Target]:
    from infra.localrun import manifest

    return [Target(s.name, s.entrypoint, s.source, _real_path(s)) for s in manifest.load().http()]


@dataclass(frozen=True)
class Caller:
    tenant_id: str
    headers: dict[str, str]


def prepare_data_dir(path: Path, port_hint: str = "http://127.0.0.1:0") -> Caller:
    """What a deployed instance finds: the database, the signing key, and a signed-up member."""
    from studio.bootstrap import Deps
    from studio.config import Settings
    from studio.identity.services import identity_services
    from studio.kernel.context import Principal

    deps = Deps(Settings(data_dir=path, public_url=ISSUER))
    services = identity_services(deps)
    user = services.accounts.signup("cold@example.com", "Frosty-Launch-2026", None)
    tenant_id = services.tenants.bootstrap(Principal(user["user_id"], "cold@example.com"), "Cold")
    token = services.accounts.login("cold@example.com", "Frosty-Launch-2026", client_ip="127.0.0.1")["access_token"]
    deps.store.close()  # the last connection to close checkpoints the WAL into store.db
    return Caller(tenant_id, {"Authorization": f"Bearer {token}", "X-Tenant-Id": tenant_id, "X-Env": "dev"})


ISSUER = "http://bench.invalid"  # tokens name this issuer; every started function is told the same


def _env(data_dir: Path, port: int, pycache: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = str(data_dir / "no-pycache")  # an empty tree: nothing cached is found
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SHARED), env.get("PYTHONPATH", "")) if p)
    env["STUDIO_DATA_DIR"] = str(data_dir)
    env["STUDIO_PUBLIC_URL"] = ISSUER
    env["PORT"] = str(port)
    return env


def _framework_cli() -> str:
    cli = Path(sys.executable).parent / "functions-framework"
    return str(cli) if cli.exists() else shutil.which("functions-framework") or "functions-framework"


def _ok(port: int, path: str, headers: dict[str, str] | None = None) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=START_TIMEOUT_S)
    try:
        conn.request("GET", path, headers=headers or {})
        status = conn.getresponse().status
        if status not in (200, 503) and headers:
            raise RuntimeError(f"GET {path} answered {status}")
        return status == 200
    except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
        return False
    finally:
        conn.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # gunicorn: graceful stop of the master and its worker
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time so far of ``pid`` and its child processes (gunicorn's master and worker): the sum of
    /proc/<pid>/task/*/schedstat's first field (ns on CPU, every live thread). Unlike the wall clock it
    barely moves when other work shares the machine: the bench prints it beside the wall-clock figure."""
    total = 0
    for proc in (pid, *_children(pid)):
        for schedstat in Path(f"/proc/{proc}/task").glob("*/schedstat"):
            try:
                total += int(schedstat.read_text().split()[0])
            except (OSError, IndexError, ValueError):
                continue
    return total / 1e9


def start_once(target: Target, template: Path, workdir: Path, pycache: Path | None,
               caller: Caller | None = None, cpu: list[float] | None = None) -> float:
    """Seconds from Popen to the first 200: on the health route, or with ``caller`` on the real route.
    ``cpu``, when given, gets the CPU seconds the function's processes used until then."""
    data_dir = Path(tempfile.mkdtemp(prefix="data-", dir=workdir))
    shutil.copytree(template, data_dir, dirs_exist_ok=True)
    port = free_port()
    cmd = [_framework_cli(), "--target", target.entrypoint, "--source", str(target.source),
           "--host", "127.0.0.1", "--port", str(port)]
    env = _env(data_dir, port, pycache)
    with tempfile.TemporaryFile(dir=workdir) as errlog:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=errlog)
        try:
            while True:
                path = target.health_path if caller is None else target.real_path.replace(
                    "{tenant_id}", caller.tenant_id)
                if _ok(port, path, caller.headers if caller else None):
                    elapsed = time.perf_counter() - started
                    if cpu is not None:
                        cpu.append(cpu_seconds(proc.pid))
                    return elapsed
                if proc.poll() is not None or time.perf_counter() - started > START_TIMEOUT_S:
                    errlog.seek(0)
                    tail = errlog.read().decode(errors="replace")[-2000:]
                    raise RuntimeError(f"{target.name} did not answer 200 on {target.health_path} "
                                       f"(exit code {proc.poll()}):\n{tail}")
                time.sleep(POLL_S)
        finally:
            _stop(proc)


def import_profile(target: Target, data_dir: Path, pycache: Path | None) -> list[tuple[float, float, str]]:
    """``python -X importtime`` of the function's main.py: (self ms, cumulative ms, name) per module."""
    proc = subprocess.run(  # noqa: S603 - our own interpreter on our own file
        [sys.executable, "-X", "importtime", str(target.source)], cwd=REPO, env=_env(data_dir, 0, pycache),
        capture_output=True, text=True, timeout=120, check=False,
    )
    rows: list[tuple[float, float, str]] = []
    for raw in proc.stderr.splitlines():
        if not raw.startswith("import time:") or "self [us]" in raw:
            continue
        self_us, cumulative_us, name = raw[len("import time:"):].split("|", 2)
        rows.append((int(self_us) / 1000, int(cumulative_us) / 1000, name.rstrip()))
    return rows


def _print_profiles(everyone: list[Target], workdir: Path, pycache: Path | None, top: int = 10) -> None:
    profiles = {t.name: import_profile(t, workdir, pycache) for t in everyone}
    baseline = {name.strip() for _, _, name in profiles.get("hello", [])}
    for target in everyone:
        rows = profiles[target.name]
        total = sum(c for _, c, n in rows if not n.startswith("  "))  # top level: children are inside
        extra = [r for r in rows if r[2].strip() not in baseline]
        print(f"\n  python -X importtime {target.source.relative_to(REPO)}: {total:.0f} ms of imports, "
              f"{sum(s for s, _, _ in extra):.0f} ms (self) in {len(extra)} modules the hello world does not import")
        print(table(["cumulative", "self", f"top {top} by cumulative"],
                    [[f"{c:.1f} ms", f"{s:.1f} ms", n] for s, c, n in sorted(rows, key=lambda r: -r[1])[:top]],
                    indent="    "))
        if target.name != "hello" and extra:
            print(table(["cumulative", "self", f"top {top} not imported by hello"],
                        [[f"{c:.1f} ms", f"{s:.1f} ms", n.strip()]
                         for s, c, n in sorted(extra, key=lambda r: -r[1])[:top]], indent="    "))


def run(verbose: bool = False, runs: int = RUNS, bytecode_cache: bool = True) -> list[Result]:
    heading("cold start: process start -> first 200, vs bare functions-framework hello world")
    hello = Target("hello", "hello", HELLO)
    functions = targets()
    everyone = [hello, *functions]
    samples: dict[str, list[float]] = {t.name: [] for t in everyone}
    real: dict[str, list[float]] = {t.name: [] for t in everyone}
    real_cpu: dict[str, list[float]] = {t.name: [] for t in everyone}
    print(f"  {len(functions)} HTTP functions from functions/manifest.yaml; {runs} timed runs each "
          f"+ 1 warm-up, alternating; median reported", flush=True)
    print("  data dir: fresh copy per run of a pre-initialised dir (store schema + signing key exist, "
          "as the database does on GCP)", flush=True)
    print("  bytecode: " + ("cached (.pyc compiled by the warm-up, as in a built image)" if bytecode_cache
                            else "none: every module compiled from source on each start"), flush=True)
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        workdir = Path(tmp)
        pycache = workdir / "pycache" if bytecode_cache else None
        template = workdir / "template"
        caller = prepare_data_dir(template)
        for target in everyone:  # warm-up: bytecode and page cache, untimed
            try:
                start_once(target, template, workdir, pycache)
            except RuntimeError as exc:
                errors[target.name] = str(exc)
        if "hello" in errors:
            raise RuntimeError("the hello world baseline did not start:\n" + errors["hello"])
        live = [t for t in everyone if t.name not in errors]
        for i in range(runs):
            order = live[i % len(live):] + live[: i % len(live)]  # rotate: nobody always goes first
            for target in order:
                samples[target.name].append(start_once(target, template, workdir, pycache) * 1000)
                real[target.name].append(start_once(target, template, workdir, pycache, caller,
                                                    real_cpu[target.name]) * 1000)
        if verbose:
            _print_profiles(live, workdir, pycache)

    base = median(samples["hello"])
    results = []
    rows = []
    for target in functions:
        if target.name in errors:
            rows.append([target.name, "ERROR", fmt_num(base, "ms"), "-", "-", "ERROR"])
            print(f"  {target.name} failed to start:\n{errors[target.name]}", flush=True)
            continue
        r = Result("cold_start", f"{target.name} cold start (median)", median(samples[target.name]), "ms",
                   base, "hello", GOAL, note="bytecode cached" if bytecode_cache else "no bytecode cache",
                   extra={"runs_ms": [round(s, 1) for s in samples[target.name]],
                          "baseline_runs_ms": [round(s, 1) for s in samples["hello"]]})
        results.append(r)
        rows.append([target.name, fmt_num(r.value, "ms"), fmt_num(base, "ms"), fmt_ratio(r.ratio),
                     f"<= {GOAL}x", r.status])
        first = Result("cold_start", f"{target.name} cold start to first authenticated 200 (GET {target.real_path})",
                       median(real[target.name]), "ms", median(real["hello"]), "hello", FIRST_GOAL,
                       note="routes, models, token verification and a store read load on this request",
                       extra={"runs_ms": [round(x, 1) for x in real[target.name]]})
        results.append(first)
        rows.append([f"  first GET {target.real_path}", fmt_num(first.value, "ms"), fmt_num(first.baseline, "ms"),
                     fmt_ratio(first.ratio), f"<= {FIRST_GOAL}x", first.status])
        cpu = Result("cold_start", f"{target.name} CPU to first authenticated 200 (master + worker)",
                     median(real_cpu[target.name]) * 1000, "ms", median(real_cpu["hello"]) * 1000, "hello", None,
                     note="CPU time, not wall: the cross-check on a loaded machine; the verdict is the wall clock's",
                     extra={"runs_ms": [round(x * 1000, 1) for x in real_cpu[target.name]]})
        results.append(cpu)
        rows.append(["    its CPU time", fmt_num(cpu.value, "ms"), fmt_num(cpu.baseline, "ms"),
                     fmt_ratio(cpu.ratio), "report", cpu.status])
    print()
    print(table(["function", "median", "hello median", "ratio", "goal", "status"], rows), flush=True)
    print("  runs (ms): " + "; ".join(f"{n} {', '.join(f'{s:.0f}' for s in v)}" for n, v in samples.items() if v))
    if any(r.status == "MISS" for r in results) and not verbose:
        print("  (python -m bench --verbose shows which imports the functions pay that the hello world does not)")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="also print -X importtime top 10 per function")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="compile every module from source on each start (no .pyc at all)")
    args = parser.parse_args()
    print(result_rows(run(args.verbose, args.runs, bytecode_cache=not args.no_bytecode_cache)))


if __name__ == "__main__":
    main()
