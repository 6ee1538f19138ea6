"""Three-wise review (I30): a change to a locked scope is proposed as a question carrying a command
envelope (the kernel's ``/commands`` types), approved by N distinct admins or owners other than the
proposer (default 3), then applied with its ``base_rev``. If the target moved on meanwhile, the
command's own revision check refuses it and the question fails with that reason: nothing is applied
over a change the reviewers never saw (decision 0037). Votes, the verdict and a history are kept.

Rejected: once as many reviewers reject as would have had to approve.
"""
from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from studio.governance import paths
from studio.governance.errors import QUESTION_NOT_OPEN, VOTE_NOT_ALLOWED
from studio.governance.locks import approved_change
from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.command_registry import CommandRegistry
from studio.kernel.context import RequestContext
from studio.kernel.deps import Deps, Slot
from studio.kernel.events import DomainEvent, emit
from studio.kernel.problems import from_validation_error
from studio.kernel.roles import Role
from studio.ports.store import Document, DocumentStore, Filter, Query, Transaction

if TYPE_CHECKING:  # a question's command is validated where one is read or proposed (decision 0097)
    from studio.kernel.commands import CommandEnvelope

# Every domain's command types, put here by the governance function (functions/governance/main.py
# composes them from studio.domains, which this layer may not import).
COMMAND_REGISTRY: Slot[CommandRegistry] = Slot("governance.command_registry")
REVIEWER = Role.ADMIN


def question_view(doc: Document) -> dict[str, Any]:
    d = doc.data
    return {"id": doc.doc_id, "status": d["status"], "command": d["command"], "required": d["required"],
            "proposer": d["proposer"], "rationale": d["rationale"], "votes": d["votes"], "history": d["history"],
            "reason": d.get("reason"), "result": d.get("result"), "created_at": d["created_at"], "rev": doc.rev}


def _tally(votes: list[dict[str, Any]], verdict: str) -> int:
    return sum(1 for v in votes if v["verdict"] == verdict)


class ThreeWiseService:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def _registry(self, deps: Deps) -> CommandRegistry:
        def unwired() -> CommandRegistry:
            raise errors.Unavailable("this function has no command registry for three-wise questions")

        return deps.memo(COMMAND_REGISTRY, unwired)

    def propose(self, deps: Deps, ctx: RequestContext, command: CommandEnvelope, required: int,
                rationale: str) -> dict[str, Any]:
        kind = self._registry(deps).get(command.type)
        if command.target.kind != kind.target_kind:
            raise errors.StudioError(errors.VALIDATION_FAILED, f"{command.type} targets a {kind.target_kind}",
                                     errors=[{"field": "body.command.target.kind", "message": f"must be {kind.target_kind}"}])
        if not ctx.is_system and (ctx.role is None or not ctx.role.at_least(kind.role)):
            raise errors.StudioError(errors.ROLE_INSUFFICIENT, f"proposing {command.type} needs {kind.role.value}")
        from pydantic import ValidationError

        try:
            kind.payload.model_validate(command.payload)
        except ValidationError as exc:
            raise from_validation_error(exc, location="body.command.payload") from None
        question_id = "q_" + secrets.token_hex(8)
        now = utc_now()

        def write(tx: Transaction) -> Document:
            doc = tx.create(paths.question(ctx.tenant_id, ctx.env, question_id), {
                "status": "open", "command": command.model_dump(mode="json"), "required": required,
                "proposer": ctx.user_id, "proposer_role": ctx.role.value if ctx.role else "system",
                "rationale": rationale, "votes": [], "created_at": now, "reason": None, "result": None,
                "history": [{"at": now, "by": ctx.user_id, "what": "proposed"}]})
            emit(tx, DomainEvent("governance.question_proposed", ctx.tenant_id, ctx.env, doc.path,
                                 {"question_id": question_id, "command_type": command.type}))
            return doc

        return question_view(self._store.run_transaction(write))

    def get(self, ctx: RequestContext, question_id: str) -> dict[str, Any]:
        doc = self._store.get(paths.question(ctx.tenant_id, ctx.env, question_id))
        if doc is None:
            raise errors.NotFound("no such question")
        return question_view(doc)

    def list_questions(self, ctx: RequestContext, status: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
        filters = [Filter("status", "==", status)] if status else []
        page = self._store.query(Query(paths.questions(ctx.tenant_id, ctx.env), filters, [("created_at", "desc")],
                                       limit, cursor))
        return {"questions": [question_view(d) for d in page.docs], "next_page_token": page.next_cursor}

    def vote(self, deps: Deps, ctx: RequestContext, question_id: str, verdict: str, comment: str) -> dict[str, Any]:
        path = paths.question(ctx.tenant_id, ctx.env, question_id)
        now = utc_now()

        def write(tx: Transaction) -> Document:
            doc = tx.get(path)
            if doc is None:
                raise errors.NotFound("no such question")
            d = dict(doc.data)
            if d["status"] != "open":
                raise errors.StudioError(QUESTION_NOT_OPEN, f"question is {d['status']}")
            if ctx.user_id == d["proposer"]:
                raise errors.StudioError(VOTE_NOT_ALLOWED, "the proposer may not review their own question")
            if any(v["by"] == ctx.user_id for v in d["votes"]):
                raise errors.StudioError(VOTE_NOT_ALLOWED, "each reviewer votes once")
            if not ctx.is_system and (ctx.role is None or not ctx.role.at_least(REVIEWER)):
                raise errors.StudioError(errors.ROLE_INSUFFICIENT, "reviewers are admins or owners")
            votes = [*d["votes"], {"by": ctx.user_id, "role": ctx.role.value if ctx.role else "system",
                                   "verdict": verdict, "comment": comment, "at": now}]
            history = [*d["history"], {"at": now, "by": ctx.user_id, "what": f"voted {verdict}"}]
            status = d["status"]
            if _tally(votes, "approve") >= d["required"]:
                status = "approved"  # applied just after this commit, by this caller
            elif _tally(votes, "reject") >= d["required"]:
                status = "rejected"
                history.append({"at": now, "by": ctx.user_id, "what": "rejected"})
            after = tx.put(path, dict(d, votes=votes, history=history, status=status), expected_rev=doc.rev)
            emit(tx, DomainEvent("governance.question_voted", ctx.tenant_id, ctx.env, path,
                                 {"question_id": question_id, "verdict": verdict, "status": status}))
            if status == "rejected":
                emit(tx, DomainEvent("governance.question_decided", ctx.tenant_id, ctx.env, path,
                                     {"question_id": question_id, "status": status}))
            return after

        doc = self._store.run_transaction(write)
        if doc.data["status"] == "approved":
            doc = self._apply(deps, ctx, doc)
        return question_view(doc)

    def _apply(self, deps: Deps, ctx: RequestContext, doc: Document) -> Document:
        """Run the approved command as the last approver, past the lock it was asked under; record the outcome."""
        from pydantic import ValidationError

        from studio.kernel.commands import CommandEnvelope

        command = CommandEnvelope.model_validate(doc.data["command"])
        outcome: dict[str, Any]
        try:
            kind = self._registry(deps).get(command.type)
            payload = kind.payload.model_validate(command.payload)
            with approved_change(doc.doc_id):
                result = kind.handler(deps, ctx, command.target.id, command.base_rev, payload)
            outcome = {"status": "applied", "reason": None, "result": {"new_rev": result.new_rev, "events": result.events}}
        except errors.StudioError as exc:
            outcome = {"status": "failed", "result": {"code": exc.code.code, **{
                k: v for k, v in exc.extra.items() if isinstance(v, (int, str))}}, "reason": exc.detail}
        except ValidationError as exc:
            outcome = {"status": "failed", "result": {"code": errors.VALIDATION_FAILED.code}, "reason": str(exc)[:500]}
        now = utc_now()

        def write(tx: Transaction) -> Document:
            current = tx.get(doc.path)
            if current is None or current.data["status"] != "approved":
                raise errors.StudioError(QUESTION_NOT_OPEN, "question was decided meanwhile")
            what = "applied" if outcome["status"] == "applied" else f"failed: {outcome['reason']}"
            after = tx.put(doc.path, dict(current.data, **outcome, history=[
                *current.data["history"], {"at": now, "by": ctx.user_id, "what": what}]), expected_rev=current.rev)
            emit(tx, DomainEvent("governance.question_decided", ctx.tenant_id, ctx.env, doc.path,
                                 {"question_id": doc.doc_id, "status": outcome["status"]}))
            return after

        return self._store.run_transaction(write)
