"""The European Accessibility Act pack of a site: EN 301 549 clause-9 report, manual checklist,
Annex V service information, accessibility statement and remediation history (decision 0066).

Evidence is the site's latest finished audit: a clause FAILS when a violation maps to it, is MANUAL
when only "incomplete" items map to it and no one has resolved them on the checklist, PASSES when axe
or the layout checks tested it and found nothing, and is NOT TESTED otherwise (most of clause 9 needs
a person: captions, keyboard traps, timing ...). A checklist entry keyed ``clause:9.x.x.x`` records a
person's verdict on a clause and overrides the automated one.
"""
from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from typing import Any

from studio.audits import paths, wcag
from studio.audits.jobs import AuditJobs
from studio.kernel import repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent
from studio.ports.store import Document, DocumentStore, Transaction

STANDARD = "EN 301 549 V3.2.1 (2021-03), clause 9 (WCAG 2.1 level A and AA)"
REVIEW_AFTER_DAYS = 365


class EaaPacks:
    def __init__(self, store: DocumentStore, jobs: AuditJobs) -> None:
        self._store = store
        self._jobs = jobs

    def current_rev(self, ctx: RequestContext, site_id: str) -> int:
        doc = self._store.get(paths.eaa_site(ctx.tenant_id, ctx.env, site_id))
        return 0 if doc is None else doc.rev  # reads as rev 0 until first written (base_rev 0 creates)

    def site(self, ctx: RequestContext, site_id: str) -> dict[str, Any]:
        doc = self._store.get(paths.eaa_site(ctx.tenant_id, ctx.env, site_id))
        return _site_view(site_id, doc)

    def patch_site(self, ctx: RequestContext, site_id: str, service: dict[str, Any] | None,
                   checklist: list[dict[str, Any]], base_rev: int) -> dict[str, Any]:
        now = utc_now()

        def change(current: Document | None) -> dict[str, Any]:
            data = dict(current.data) if current else {"service": {}, "checklist": {}}
            if service is not None:
                data["service"] = service
            items = dict(data.get("checklist", {}))
            for entry in checklist:  # who checked what, and when: kept per item, history in the event log
                items[entry["key"]] = {"status": entry["status"], "note": entry["note"], "checked_by": ctx.user_id,
                                       "checked_at": now}
            data["checklist"] = items
            return data

        def write(tx: Transaction) -> Document:
            return repository.upsert(
                tx, paths.eaa_site(ctx.tenant_id, ctx.env, site_id), base_rev, change=change,
                event=lambda before, after: DomainEvent("audits.eaa_site_updated", ctx.tenant_id, ctx.env, after.path,
                                                        {"site_id": site_id,
                                                         "checked": [e["key"] for e in checklist]})).after

        return _site_view(site_id, self._store.run_transaction(write))

    def pack(self, ctx: RequestContext, site_id: str) -> dict[str, Any]:
        site_doc = self._store.get(paths.eaa_site(ctx.tenant_id, ctx.env, site_id))
        site = _site_view(site_id, site_doc)
        audits = self._jobs.done_for_site(ctx.tenant_id, ctx.env, site_id)
        latest = audits[0] if audits else None
        clauses = clause_report(latest, site["checklist"])
        manual = manual_checklist(latest, site["checklist"])
        service = annex_v(site["service"], site_id)
        statement = accessibility_statement(service, clauses, latest)
        return {"site_id": site_id, "generated_at": utc_now(), "standard": STANDARD,
                "audit_id": None if latest is None else latest.doc_id, "clauses": clauses,
                "manual_checklist": manual, "service_information": service, "statement": statement,
                "statement_html": statement_html(statement), "history": remediation_history(audits),
                "rev": site["rev"]}


def _site_view(site_id: str, doc: Document | None) -> dict[str, Any]:
    data = doc.data if doc else {}
    return {"site_id": site_id, "service": data.get("service", {}), "checklist": data.get("checklist", {}),
            "rev": doc.rev if doc else 0}


def clause_report(audit: Document | None, checklist: dict[str, Any]) -> list[dict[str, Any]]:
    a11y = (audit.data.get("accessibility") if audit else None) or {}
    layout = (audit.data.get("layout") if audit else None)
    evidence: dict[str, dict[str, list[str]]] = {c: {"fail": [], "incomplete": [], "pass": []} for c in wcag.CLAUSES}
    link = f"/audits/{audit.doc_id}" if audit else ""
    for kind, bucket in (("violations", "fail"), ("incomplete", "incomplete"), ("passes", "pass")):
        for rule in a11y.get(kind, []):
            for c in rule["clauses"]:
                if c["clause"] in evidence:
                    evidence[c["clause"]][bucket].append(f"{link}#{kind}/{rule['rule']}")
    if layout is not None:  # the layout checks test reflow (1.4.10) at 320 CSS px
        reflow = [f for f in layout["findings"] if f["check"] == "reflow"]
        evidence["9.1.4.10"]["fail" if reflow else "pass"].append(f"{link}#layout/reflow")
    report = []
    for clause in wcag.CLAUSES:
        ev = evidence[clause]
        status = "fail" if ev["fail"] else "manual" if ev["incomplete"] else "pass" if ev["pass"] else "not_tested"
        human = checklist.get(f"clause:{clause}")
        if human and human["status"] in ("pass", "fail", "not_applicable"):
            status = human["status"]
        criterion = wcag.CRITERIA[wcag.sc_of_clause(clause)]
        report.append({"clause": clause, "sc": criterion.sc, "name": criterion.name, "level": criterion.level,
                       "status": status, "evidence": ev["fail"] + ev["incomplete"] + ev["pass"],
                       "checked_by": human["checked_by"] if human else None})
    return report


def manual_checklist(audit: Document | None, checklist: dict[str, Any]) -> list[dict[str, Any]]:
    items = ((audit.data.get("accessibility") if audit else None) or {}).get("manual_checklist", [])
    return [dict(item, **{k: checklist.get(item["key"], {}).get(k) for k in ("status", "note", "checked_by",
                                                                            "checked_at")}) for item in items]


def annex_v(service: dict[str, Any], site_id: str) -> dict[str, Any]:
    """EAA Annex V (services): the service described, how it meets the requirements, where to complain."""
    missing = [k for k in ("service_name", "provider", "description", "contact_email", "enforcement_body")
               if not service.get(k)]
    return {"site_id": site_id, **service, "missing": missing}


def accessibility_statement(service: dict[str, Any], clauses: list[dict[str, Any]],
                            audit: Document | None) -> dict[str, Any]:
    failing = [c for c in clauses if c["status"] == "fail"]
    untested = [c for c in clauses if c["status"] in ("manual", "not_tested")]
    status = ("non_compliant" if audit is None else "partially_compliant" if failing or untested
              else "fully_compliant")
    today = datetime.now(UTC).date()
    return {"service": service.get("service_name") or service.get("site_id"), "provider": service.get("provider"),
            "prepared_on": today.isoformat(), "review_by": (today + timedelta(days=REVIEW_AFTER_DAYS)).isoformat(),
            "standard": STANDARD, "conformance_status": status,
            "method": "automated audit in Chromium (axe-core, layout checks) and a manual checklist",
            "last_audit": None if audit is None else {"id": audit.doc_id, "finished_at": audit.data.get("finished_at")},
            "non_accessible_content": [
                {"clause": c["clause"], "sc": c["sc"], "name": c["name"],
                 "reason": "non-compliance: found by the audit" if c["status"] == "fail"
                 else "not yet assessed"} for c in failing + [c for c in untested if c["status"] == "manual"]],
            "feedback_contact": service.get("contact_email") or None,
            "enforcement_procedure": {"body": service.get("enforcement_body") or None,
                                      "url": service.get("enforcement_url") or None}}


def statement_html(st: dict[str, Any]) -> str:
    e = html.escape
    rows = "".join(f"<li>{e(c['clause'])} ({e(c['sc'])} {e(c['name'])}): {e(c['reason'])}</li>"
                   for c in st["non_accessible_content"])
    contact = st["feedback_contact"] or "not provided"
    body = st["enforcement_procedure"]
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Accessibility statement: '
            f'{e(str(st["service"]))}</title></head><body><main><h1>Accessibility statement</h1>'
            f'<p>{e(str(st["provider"] or ""))} is committed to making {e(str(st["service"]))} accessible, in '
            f'accordance with the European Accessibility Act (Directive (EU) 2019/882).</p>'
            f'<h2>Compliance status</h2><p>Measured against {e(st["standard"])}: '
            f'<strong>{e(st["conformance_status"].replace("_", " "))}</strong>.</p>'
            f'<h2>Non-accessible content</h2><ul>{rows or "<li>None known.</li>"}</ul>'
            f'<h2>Preparation</h2><p>Prepared on <time>{e(st["prepared_on"])}</time> by {e(st["method"])}; '
            f'to be reviewed by <time>{e(st["review_by"])}</time>.</p>'
            f'<h2>Feedback</h2><p>Contact: {e(contact)}</p>'
            f'<h2>Enforcement procedure</h2><p>If our answer does not satisfy you, contact '
            f'{e(str(body["body"] or "the national enforcement body"))}'
            f'{" at " + e(body["url"]) if body["url"] else ""}.</p></main></body></html>')


def remediation_history(audits: list[Document]) -> list[dict[str, Any]]:
    """Newest first: each audit with what it fixed (rules gone) and introduced since the one before."""
    def rules(doc: Document) -> set[str]:
        return {r["rule"] for r in (doc.data.get("accessibility") or {}).get("violations", [])} | {
            f"layout:{f['check']}" for f in (doc.data.get("layout") or {}).get("findings", [])}

    out = []
    for i, doc in enumerate(audits):
        entry = {"audit_id": doc.doc_id, "finished_at": doc.data.get("finished_at"), "summary": doc.data.get("summary")}
        if i + 1 < len(audits):
            now, before = rules(doc), rules(audits[i + 1])
            entry |= {"compared_with": audits[i + 1].doc_id, "fixed": sorted(before - now),
                      "introduced": sorted(now - before)}
        out.append(entry)
    return out
