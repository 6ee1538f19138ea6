"""Invoke-path overhead (issue 9): a no-op tool through the whole path -- resolve, input schema, kill
switch, strategy lock, role, licence, budget reservation, policy filter on the input, the handler, output
schema, policy filter on the output, settlement, audit DatasetEvent -- vs the same handler called
directly. Goal: p50 overhead under 2 ms; the ratio is printed.

Setup: the real services on the embedded adapters (SQLite store and bus in a temporary folder), a tenant
with its owner, in this process (no HTTP: the path is what the HTTP API, MCP and the agents share; the
kernel's own HTTP cost is bench/kernel_latency.py's). The no-op tool is declared here, not in a domain,
and found by the real catalog subclassed for that one name. Times are wall-clock per call (perf_counter).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Result, heading, percentile, result_rows

GOAL_MS = 2.0
WARMUP = 200
CALLS = 2_000


def run(verbose: bool = False, calls: int = CALLS) -> list[Result]:
    from studio.bootstrap import Deps
    from studio.config import Settings
    from studio.events.routes import events_services
    from studio.governance.gates import Subject
    from studio.governance.services import governance_services
    from studio.identity.services import identity_services
    from studio.kernel.context import Principal, RequestContext
    from studio.kernel.roles import Role
    from studio.kernel.tools import ToolInvocation, ToolSpec
    from studio.privacy.services import privacy_services
    from studio.tools.catalog import ToolCatalog
    from studio.tools.invoker import Invocation, ToolInvoker
    from studio.tools.ssrf import UrlGuard

    def noop(invocation: ToolInvocation) -> dict[str, Any]:
        return {"ok": True}

    spec = ToolSpec("bench.noop", "1.0.0", "No-op", "Does nothing", {"type": "object", "properties": {}},
                    {"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}}, noop,
                    idempotent=True, required_role=Role.VIEWER)

    class BenchCatalog(ToolCatalog):
        def resolve(self, ctx: RequestContext, ref: str) -> ToolSpec:
            return spec if ref == "bench.noop" else super().resolve(ctx, ref)

    heading("tool invoke path: a no-op tool through every gate vs its handler called directly")
    with tempfile.TemporaryDirectory(prefix="bench-tools-") as tmp:
        deps = Deps(Settings(data_dir=Path(tmp), public_url="http://bench.invalid"))
        accounts = identity_services(deps)
        user = accounts.accounts.signup("tools@example.com", "Tool-Bench-2026", None)
        principal = Principal(user["user_id"], "tools@example.com")
        tenant_id = accounts.tenants.bootstrap(principal, "Bench")
        ctx = RequestContext(tenant_id, "dev", principal, Role.OWNER)
        # The invoker tools_services builds, with the catalog that also knows bench.noop.
        invoker = ToolInvoker(deps, BenchCatalog(deps.store, UrlGuard()), governance_services(deps).gates,
                              privacy_services(deps).policy, events_services(deps).logger, deps.store)
        call = Invocation(ctx, Subject("user", principal.user_id, Role.OWNER), "bench.noop", {})
        direct_call = ToolInvocation(deps, ctx, "user", principal.user_id, "bench.noop", "1.0.0", {})

        def timed(fn: Any, n: int) -> list[float]:
            out = []
            for _ in range(n):
                started = time.perf_counter()
                fn()
                out.append(time.perf_counter() - started)
            return out

        timed(lambda: invoker.invoke(call), WARMUP)
        path = timed(lambda: invoker.invoke(call), calls)
        direct = timed(lambda: spec.handler(direct_call), calls)
        deps.store.close()
    p50_path, p50_direct = percentile(path, 50) * 1000, percentile(direct, 50) * 1000
    p99_path = percentile(path, 99) * 1000
    overhead = p50_path - p50_direct
    print(f"  whole path p50 {p50_path:.3f} ms (p99 {p99_path:.3f} ms); handler alone p50 {p50_direct * 1000:.1f} us; "
          f"overhead p50 {overhead:.3f} ms (goal < {GOAL_MS} ms); ratio {p50_path / p50_direct:,.0f}x the handler")
    return [
        Result("tool_invoke", "p50 overhead of the invoke path over the handler (ms)", overhead, "ms",
               baseline=GOAL_MS, baseline_name="goal 2 ms", goal=1.0,
               note=f"path p50 {p50_path:.3f} ms, handler p50 {p50_direct * 1000:.1f} us, "
                    f"ratio {p50_path / p50_direct:,.0f}x"),
        Result("tool_invoke", "p99 of the whole invoke path (ms)", p99_path, "ms"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=CALLS)
    args = parser.parse_args()
    print(result_rows(run(True, args.calls)))


if __name__ == "__main__":
    main()
