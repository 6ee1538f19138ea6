"""Audit jobs: requested over HTTP (202), run by the audit worker, read back with their findings.

POST writes the job ``queued`` with its ``audits.audit_requested`` event (topic ``audits.jobs``) in one
transaction; the worker (functions/audit_worker; Cloud Run in production, decision 0063) marks it
``running``, reports progress on the tenant's meta channel, and stores the result with
``audits.audit_finished`` and an ``audit.result`` meta event in one transaction.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from studio.audits import findings, paths
from studio.audits.errors import AUDIT_URL_REFUSED
from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.kernel.meta import emit_meta, publish_meta
from studio.ports.analytics import AnalyticsStore
from studio.ports.bus import Bus
from studio.ports.store import Document, DocumentStore, Filter, Query, Transaction
from studio.tools.ssrf import UrlGuard

JOBS_TOPIC = "audits.jobs"
_OUT_FIELDS = ("status", "site_id", "target", "kinds", "breakpoints", "device", "progress", "stage", "created_at",
               "finished_at", "error", "refused_urls", "summary", "accessibility", "performance", "layout")


def audit_view(doc: Document) -> dict[str, Any]:
    return {"id": doc.doc_id, "rev": doc.rev} | {k: doc.data.get(k) for k in _OUT_FIELDS if doc.data.get(k) is not None}


class AuditJobs:
    def __init__(self, store: DocumentStore, bus: Bus, guard: UrlGuard,
                 analytics: Callable[[], AnalyticsStore] | None = None) -> None:
        self._store = store
        self._bus = bus
        self._guard = guard
        self._analytics = analytics  # opened on first use: most requests never read field data

    def check_address(self, host: str, port: int) -> str:
        """The address the worker's proxy connects to; AUDIT_URL_REFUSED for what it may not reach."""
        try:
            literal = f"[{host}]" if ":" in host else host  # an IPv6 address in a URL is bracketed
            return self._guard.check(f"https://{literal}:{port}/").address
        except errors.StudioError as exc:
            raise errors.StudioError(AUDIT_URL_REFUSED, exc.detail) from exc

    def request(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("url"):
            try:
                _, host, port, _ = self._guard.check_syntax(body["url"])
            except errors.StudioError as exc:
                raise errors.StudioError(AUDIT_URL_REFUSED, exc.detail) from exc
            self.check_address(host, port)  # refused now rather than in the worker; checked again there
        audit_id = "au_" + secrets.token_hex(8)
        data = {"status": "queued", "site_id": body.get("site_id"), "target": body.get("url") or "submitted HTML",
                "kinds": sorted(set(body["kinds"])), "breakpoints": sorted(set(body["breakpoints"])),
                "device": body["device"], "progress": 0.0, "stage": "queued", "created_at": utc_now(),
                "request": {"url": body.get("url"), "html": body.get("html"), "budget": body.get("budget", [])},
                "created_by": ctx.user_id}

        def write(tx: Transaction) -> Document:
            doc = tx.create(paths.audit(ctx.tenant_id, ctx.env, audit_id), data)
            emit(tx, DomainEvent("audits.audit_requested", ctx.tenant_id, ctx.env, doc.path, {"audit_id": audit_id}),
                 topic=JOBS_TOPIC)
            return doc

        return audit_view(self._store.run_transaction(write))

    def get(self, ctx: RequestContext, audit_id: str) -> dict[str, Any]:
        doc = self._store.get(paths.audit(ctx.tenant_id, ctx.env, audit_id))
        if doc is None:
            raise errors.NotFound("no such audit")
        return audit_view(doc)

    def list_audits(self, ctx: RequestContext, site_id: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
        filters = [Filter("site_id", "==", site_id)] if site_id else []
        page = self._store.query(Query(paths.audits(ctx.tenant_id, ctx.env), filters, [("created_at", "desc")],
                                       limit, cursor))
        return {"audits": [audit_view(d) for d in page.docs], "next_page_token": page.next_cursor}

    def done_for_site(self, tenant_id: str, env: str, site_id: str, limit: int = 20) -> list[Document]:
        page = self._store.query(Query(paths.audits(tenant_id, env), [Filter("site_id", "==", site_id)],
                                       [("created_at", "desc")], limit))
        return [d for d in page.docs if d.data.get("status") == "done"]

    def field(self, ctx: RequestContext, site_id: str, days: int) -> dict[str, Any]:
        from studio.audits.field import field_vitals

        if self._analytics is None:
            raise errors.NotFound("no analytics store")
        return field_vitals(self._analytics(), ctx.tenant_id, ctx.env, site_id, days)

    def screenshot(self, ctx: RequestContext, audit_id: str, width: int) -> dict[str, Any]:
        doc = self._store.get(paths.screenshot(ctx.tenant_id, ctx.env, audit_id, width))
        if doc is None:
            raise errors.NotFound("no screenshot of this audit at that breakpoint")
        return {"audit_id": audit_id, "breakpoint": width, "data_url": "data:image/jpeg;base64," + doc.data["jpeg"]}

    # -- the worker's side ------------------------------------------------------------
    def run(self, tenant_id: str, env: str, audit_id: str,
            runner: Callable[..., Any]) -> None:
        """Run one queued job; a redelivered event for a job already past ``queued`` is a no-op."""
        path = paths.audit(tenant_id, env, audit_id)
        doc = self._store.get(path)
        if doc is None or doc.data.get("status") != "queued":
            return
        def start(tx: Transaction) -> None:
            tx.put(path, dict(doc.data, status="running", stage="starting"), expected_rev=doc.rev)
            emit(tx, DomainEvent("audits.audit_started", tenant_id, env, path, {"audit_id": audit_id}))

        self._store.run_transaction(start)
        job = doc.data

        def progress(stage: str, fraction: float) -> None:
            publish_meta(self._bus, tenant_id, env, "audit.progress",
                         {"audit_id": audit_id, "stage": stage, "progress": round(fraction, 3)})

        from studio.audits.browser import PageLoadError
        from studio.audits.devices import PROFILES

        request = job["request"]
        outcome: dict[str, Any]
        shots: dict[int, str] = {}
        try:
            run = runner(request.get("url"), request.get("html"), set(job["kinds"]), job["breakpoints"],
                         PROFILES[job["device"]], self.check_address, progress)
            outcome = {"status": "done", "refused_urls": run.refused[:50]}
            if run.axe is not None:
                outcome["accessibility"] = findings.accessibility(run.axe)
            if run.metrics is not None:
                outcome["performance"] = findings.performance(run.metrics, request.get("budget", []), run.url)
                if job.get("site_id") and self._analytics is not None:  # field p75 of this route, if measured
                    from studio.audits.field import field_vitals, route_of

                    outcome["performance"]["field"] = field_vitals(
                        self._analytics(), tenant_id, env, job["site_id"], route=route_of({"url": run.url}))
            if run.layout:
                _, outcome["layout"] = findings.layout(run.layout)
            outcome["summary"] = findings.summary(outcome)
            shots = run.screenshots
        except PageLoadError as exc:
            outcome = {"status": "failed", "error": str(exc), "refused_urls": exc.refused[:50]}
        except Exception as exc:  # noqa: BLE001 - the browser itself failed: the job must end, not hang "running"
            outcome = {"status": "failed", "error": f"the audit browser failed: {type(exc).__name__}: "
                                                   f"{str(exc).splitlines()[0][:300] if str(exc) else ''}"}
        self._finish(tenant_id, env, audit_id, outcome, shots)

    def _finish(self, tenant_id: str, env: str, audit_id: str, outcome: dict[str, Any], shots: dict[int, str]) -> None:
        path = paths.audit(tenant_id, env, audit_id)

        def write(tx: Transaction) -> None:
            current = tx.get(path)
            if current is None:
                return
            data = dict(current.data, **outcome, progress=1.0, stage=outcome["status"], finished_at=utc_now())
            tx.put(path, data, expected_rev=current.rev)
            for bp, jpeg in shots.items():
                tx.put(paths.screenshot(tenant_id, env, audit_id, bp), {"jpeg": jpeg})
            emit(tx, DomainEvent("audits.audit_finished", tenant_id, env, path,
                                 {"audit_id": audit_id, "status": outcome["status"]}))
            emit_meta(tx, tenant_id, env, "audit.result",
                      {"audit_id": audit_id, "status": outcome["status"], "summary": outcome.get("summary", {})},
                      subject=path)

        self._store.run_transaction(write)
