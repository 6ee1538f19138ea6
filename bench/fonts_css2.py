"""Self-hosted CSS2: the first request for a family (every unicode-range subset made with fontTools,
written to the blob store) vs the same request again (subsets found by their cache document), through the
fonts domain's service on the local adapters. DejaVu Sans (Debian's fonts-dejavu-core), 7 subsets.
Reported (the issue sets no goal)."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.common import Result, heading, median, result_rows

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
REPEATS = 20


def run(verbose: bool = False) -> list[Result]:
    from studio.bootstrap import Deps
    from studio.config import Settings
    from studio.fonts.services import fonts_services
    from studio.identity.services import identity_services
    from studio.kernel.context import Principal, RequestContext
    from studio.kernel.roles import Role

    heading("fonts CSS2: first request (subset + store every range) vs cached")
    with tempfile.TemporaryDirectory(prefix="bench-fonts-") as tmp:
        deps = Deps(Settings(data_dir=Path(tmp), public_url="http://bench.invalid"))
        accounts = identity_services(deps)
        user = accounts.accounts.signup("fonts@example.com", "Font-Bench-2026", None)
        principal = Principal(user["user_id"], "fonts@example.com")
        ctx = RequestContext(accounts.tenants.bootstrap(principal, "Bench"), "dev", principal, Role.OWNER)
        fonts = fonts_services(deps)
        with open(FONT, "rb") as fh:
            fonts.fonts.register(ctx, "DejaVuSans.ttf", fh.read(), True)
        started = time.perf_counter()
        sheet = fonts.css2.stylesheet(ctx.tenant_id, ctx.env, ["DejaVu Sans:wght@100..900"], "swap", None)
        first_ms = (time.perf_counter() - started) * 1000
        cached = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            fonts.css2.stylesheet(ctx.tenant_id, ctx.env, ["DejaVu Sans:wght@100..900"], "swap", None)
            cached.append((time.perf_counter() - started) * 1000)
        deps.store.close()
    cached_ms = median(cached)
    print(f"  {sheet.count('@font-face')} faces: first {first_ms:.0f} ms, cached p50 {cached_ms:.2f} ms")
    return [Result("fonts_css2", "CSS2 first request vs cached (p50)", first_ms, "ms", cached_ms, "cached",
                   note=f"{sheet.count('@font-face')} WOFF2 subsets")]


if __name__ == "__main__":
    print(result_rows(run(True)))
