"""One audit in a real Chromium: axe-core, lab performance metrics and the layout graph per breakpoint.

Playwright drives Debian's (locally) or the container's (Cloud Run) Chromium through
``executable_path``; every connection leaves through the checking proxy (``egress.py``). Submitted
HTML is served as the document of a reserved origin, so its subresources pass the same proxy.
Playwright is imported inside ``run_page`` only (cold start).
"""
from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from studio.audits import page_scripts
from studio.audits.devices import Profile
from studio.audits.egress import Check, EgressProxy

REPO = Path(__file__).resolve().parents[3]
AXE = Path(os.environ.get("STUDIO_AXE_JS", REPO / "infra" / "axe" / "node_modules" / "axe-core" / "axe.min.js"))
HTML_ORIGIN = "http://submitted.audit.invalid"  # never resolved: the route below answers it
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]
MAX_NODES = 5_000
SETTLE_MS = 300
_TYPES = {"Document": "document", "Script": "script", "Stylesheet": "stylesheet", "Image": "image",
          "Media": "media", "Font": "font"}
Progress = Callable[[str, float], None]


class PageLoadError(Exception):
    """The page could not be loaded (refused by the egress guard, unreachable, or an error status)."""

    def __init__(self, message: str, refused: list[str]) -> None:
        super().__init__(message)
        self.refused = refused


@dataclass
class PageRun:
    url: str
    axe: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    layout: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    screenshots: dict[int, str] = field(default_factory=dict)  # breakpoint -> base64 JPEG
    refused: list[str] = field(default_factory=list)


def chromium_path() -> str:
    found = os.environ.get("STUDIO_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise RuntimeError("no Chromium: install it (infra/install-browser.sh) or set STUDIO_CHROMIUM")
    return found


def run_page(url: str | None, html: str | None, kinds: set[str], breakpoints: list[int], profile: Profile,
             check: Check, progress: Progress, screenshots: bool = True) -> PageRun:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    target = url or HTML_ORIGIN + "/"
    run = PageRun(target)
    with EgressProxy(check) as proxy, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=FLAGS,
                                     proxy={"server": proxy.address, "bypass": "<-loopback>"})
        try:
            context = browser.new_context(viewport={"width": profile.width, "height": profile.height},
                                          device_scale_factor=profile.scale, is_mobile=profile.mobile,
                                          has_touch=profile.mobile, service_workers="block")
            if html is not None:
                context.route(HTML_ORIGIN + "/**", lambda route: route.fulfill(
                    status=200 if urlsplit(route.request.url).path == "/" else 404,
                    content_type="text/html; charset=utf-8", body=html if urlsplit(route.request.url).path == "/" else ""))
            page = context.new_page()
            requested: list[str] = []  # every URL the page asked for, each hop of a redirect included
            page.on("request", lambda request: requested.append(request.url))
            page.add_init_script(page_scripts.METRICS_INIT)
            cdp = context.new_cdp_session(page)
            resources = _watch_resources(cdp)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", profile.network())
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": profile.cpu_slowdown})
            progress("loading", 0.05)
            try:
                response = page.goto(target, wait_until="load", timeout=45_000)
            except PlaywrightError as exc:
                refused = _refused_by_page(requested, proxy.refused)
                why = "it was refused by the address guard" if refused else str(exc).splitlines()[0]
                raise PageLoadError(f"the page did not load: {why}", refused) from exc
            if response is None or response.status >= 400:
                refused = _refused_by_page(requested, proxy.refused)
                status = None if response is None else response.status
                what = "was refused by the address guard" if refused else f"answered {status}"
                raise PageLoadError(f"the page {what}", refused)
            try:
                page.wait_for_load_state("networkidle", timeout=5_000)
            except PlaywrightError:
                pass  # a page that keeps polling: measure what loaded
            page.wait_for_timeout(SETTLE_MS)
            if "performance" in kinds:
                run.metrics = _metrics(page.evaluate(page_scripts.READ_METRICS), resources, page.url)
                run.metrics["profile"] = profile.describe()
            cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                          "downloadThroughput": -1, "uploadThroughput": -1})
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
            progress("loaded", 0.3)
            if "accessibility" in kinds:
                page.evaluate(AXE.read_text())
                run.axe = page.evaluate("() => axe.run(document, {resultTypes: ['violations', 'incomplete']})")
                progress("accessibility", 0.5)
            if "layout" in kinds:
                for i, bp in enumerate(breakpoints):
                    page.set_viewport_size({"width": bp, "height": profile.height})
                    page.wait_for_timeout(50)
                    run.layout[bp] = page.evaluate(page_scripts.COLLECT_LAYOUT, MAX_NODES)
                    if screenshots:
                        shot = page.screenshot(type="jpeg", quality=45, full_page=False)
                        run.screenshots[bp] = base64.b64encode(shot).decode()
                    progress(f"layout {bp}px", 0.5 + 0.45 * (i + 1) / len(breakpoints))
            run.refused = _refused_by_page(requested, proxy.refused)
        finally:
            browser.close()
    return run


def _refused_by_page(requested: list[str], refused: list[str]) -> list[str]:
    """The page's own requests the proxy refused (Chromium's background traffic is refused too, unnamed).
    A CONNECT is refused as https://host:port/, so https URLs are matched on host and port."""
    def endpoint(url: str) -> tuple[str | None, int | None]:
        parts = urlsplit(url)
        return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)

    refused_http = set(refused)
    refused_tls = {endpoint(u) for u in refused if u.startswith("https://")}
    out: list[str] = []
    for url in requested:
        if (url in refused_http or (url.startswith("https://") and endpoint(url) in refused_tls)) and url not in out:
            out.append(url)
    return out


def _watch_resources(cdp: Any) -> dict[str, dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}

    def received(event: dict[str, Any]) -> None:
        seen.setdefault(event["requestId"], {})["type"] = event.get("type", "Other")
        seen[event["requestId"]]["url"] = event["response"]["url"]

    def finished(event: dict[str, Any]) -> None:
        seen.setdefault(event["requestId"], {})["bytes"] = event.get("encodedDataLength", 0)

    cdp.on("Network.responseReceived", received)
    cdp.on("Network.loadingFinished", finished)
    return seen


def _metrics(raw: dict[str, Any], resources: dict[str, dict[str, Any]], page_url: str) -> dict[str, Any]:
    fcp = raw.get("fcp")
    tbt = sum(max(0.0, d - 50) for start, d in raw.get("longtasks", []) if fcp is None or start >= fcp)
    by_bytes: dict[str, int] = {}
    by_count: dict[str, int] = {}
    host = urlsplit(page_url).hostname
    for res in resources.values():
        if "url" not in res or res["url"].startswith("data:"):
            continue
        kinds = [_TYPES.get(res.get("type", "Other"), "other"), "total"]
        if urlsplit(res["url"]).hostname != host:
            kinds.append("third-party")
        for kind in kinds:
            by_bytes[kind] = by_bytes.get(kind, 0) + int(res.get("bytes", 0))
            by_count[kind] = by_count.get(kind, 0) + 1
    return {"lcp_ms": _ms(raw.get("lcp")), "fcp_ms": _ms(fcp), "ttfb_ms": _ms(raw.get("ttfb")),
            "tbt_ms": round(tbt, 1), "cls": round(cls_of(raw.get("shifts", [])), 4),
            "bytes_by_type": by_bytes, "requests_by_type": by_count}


def _ms(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def cls_of(shifts: list[list[float]]) -> float:
    """CLS as Chrome defines it since 2021: the largest session window (gaps < 1 s, at most 5 s long)."""
    best = current = 0.0
    start = last = None
    for t, value in sorted((s[0], s[1]) for s in shifts):
        if start is None or last is None or t - last >= 1000 or t - start >= 5000:
            start, current = t, 0.0
        current += value
        last = t
        best = max(best, current)
    return best
