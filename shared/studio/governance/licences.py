"""Firearms licences (CAPABILITIES G26): who may fire which tool. A licence is held by a subject (a
user, an agent or an API client), names tools or a danger level, and expires; revoking keeps it
(history) but ends it. The gate (``check``) asks whether an active licence covers a request.
"""
from __future__ import annotations

import secrets
from typing import Any

from studio.governance import paths
from studio.governance.errors import LICENCE_NOT_ACTIVE, LICENCE_REQUIRED
from studio.governance.gates import DANGER_LEVELS, GateRequest
from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.ports.store import Document, DocumentStore, Filter, Query, Transaction

MAX_PER_SUBJECT = 200
MAX_LIST = 500


def status_of(data: dict[str, Any], now: str | None = None) -> str:
    if data.get("revoked_at"):
        return "revoked"
    return "expired" if data["expires_at"] <= (now or utc_now()) else "active"


def licence_view(doc: Document) -> dict[str, Any]:
    d = doc.data
    return {"id": doc.doc_id, "subject_type": d["subject_type"], "subject_id": d["subject_id"], "tools": d["tools"],
            "danger": d["danger"], "expires_at": d["expires_at"], "status": status_of(d), "issued_by": d["issued_by"],
            "issued_at": d["issued_at"], "revoked_at": d.get("revoked_at"), "revoked_by": d.get("revoked_by"),
            "note": d.get("note", ""), "rev": doc.rev}


def covers(data: dict[str, Any], tool: str | None, tool_version: str | None, danger: str, now: str) -> bool:
    """Does this licence cover the tool (by name or name@version) or its danger level?"""
    if status_of(data, now) != "active":
        return False
    if tool is not None and (tool in data["tools"] or (tool_version and f"{tool}@{tool_version}" in data["tools"])):
        return True
    level = data.get("danger")
    return level is not None and danger in DANGER_LEVELS and DANGER_LEVELS.index(level) >= DANGER_LEVELS.index(danger)


class LicenceService:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def _held(self, tenant_id: str, env: str, subject_type: str, subject_id: str) -> list[Document]:
        page = self._store.query(Query(paths.licences(tenant_id, env), [
            Filter("subject_type", "==", subject_type), Filter("subject_id", "==", subject_id)], limit=MAX_PER_SUBJECT))
        return page.docs

    def covering(self, tenant_id: str, env: str, subject_type: str, subject_id: str, tool: str | None,
                 tool_version: str | None, danger: str) -> Document | None:
        now = utc_now()
        for doc in self._held(tenant_id, env, subject_type, subject_id):
            if covers(doc.data, tool, tool_version, danger, now):
                return doc
        return None

    # -- the gate ----------------------------------------------------------------------------
    def check(self, req: GateRequest) -> None:
        if not req.needs_licence:
            return
        held = self.covering(req.tenant_id, req.env, req.subject.kind, req.subject.id, req.tool, req.tool_version,
                             req.danger)
        if held is None:
            what = f"tool {req.tool}" if req.tool else f"{req.action}"
            raise errors.StudioError(LICENCE_REQUIRED, f"{req.subject.kind} {req.subject.id} holds no active licence "
                                     f"for {what} (danger {req.danger})", subject_type=req.subject.kind,
                                     subject_id=req.subject.id, tool=req.tool, danger=req.danger)

    # -- the resource ------------------------------------------------------------------------
    def issue(self, ctx: RequestContext, *, subject_type: str, subject_id: str, tools: list[str], danger: str | None,
              expires_at: str, note: str, licence_id: str | None = None) -> tuple[dict[str, Any], DomainEvent]:
        """A new licence (a command names its id, so a retried or reviewed command creates it once)."""
        licence_id = licence_id or "lic_" + secrets.token_hex(8)

        def write(tx: Transaction) -> tuple[Document, DomainEvent]:
            doc = tx.create(paths.licence(ctx.tenant_id, ctx.env, licence_id), {
                "subject_type": subject_type, "subject_id": subject_id, "tools": sorted(set(tools)), "danger": danger,
                "expires_at": expires_at, "issued_by": ctx.user_id, "issued_at": utc_now(), "revoked_at": None,
                "revoked_by": None, "note": note})
            event = emit(tx, DomainEvent("governance.licence_issued", ctx.tenant_id, ctx.env, doc.path, {
                "licence_id": licence_id, "subject_type": subject_type, "subject_id": subject_id}))
            return doc, event

        doc, event = self._store.run_transaction(write)
        return licence_view(doc), event

    def list_licences(self, ctx: RequestContext, subject_type: str | None, subject_id: str | None) -> dict[str, Any]:
        if subject_type and subject_id:
            docs = self._held(ctx.tenant_id, ctx.env, subject_type, subject_id)
        else:
            docs = self._store.query(Query(paths.licences(ctx.tenant_id, ctx.env), limit=MAX_LIST)).docs
        return {"licences": [licence_view(d) for d in docs]}

    def current_rev(self, ctx: RequestContext, licence_id: str) -> int | None:
        doc = self._store.get(paths.licence(ctx.tenant_id, ctx.env, licence_id))
        return None if doc is None else doc.rev

    def revoke(self, ctx: RequestContext, licence_id: str, base_rev: int) -> tuple[dict[str, Any], DomainEvent]:
        def change(doc: Document) -> dict[str, Any]:
            if status_of(doc.data) != "active":
                raise errors.StudioError(LICENCE_NOT_ACTIVE, f"licence is {status_of(doc.data)}")
            return dict(doc.data, revoked_at=utc_now(), revoked_by=ctx.user_id)

        def write(tx: Transaction) -> repository.Revised:
            return repository.update(tx, paths.licence(ctx.tenant_id, ctx.env, licence_id), base_rev, what="licence",
                                     change=change, event=lambda before, after: DomainEvent(
                                         "governance.licence_revoked", ctx.tenant_id, ctx.env, after.path,
                                         {"licence_id": licence_id}))

        done = self._store.run_transaction(write)
        return licence_view(done.after), done.event

    def check_subject(self, ctx: RequestContext, subject_type: str, subject_id: str, tool: str | None,
                      danger: str) -> dict[str, Any]:
        held = self.covering(ctx.tenant_id, ctx.env, subject_type, subject_id, tool, None, danger)
        return {"subject_type": subject_type, "subject_id": subject_id, "tool": tool, "danger": danger,
                "licensed": held is not None, "licence": None if held is None else licence_view(held)}
