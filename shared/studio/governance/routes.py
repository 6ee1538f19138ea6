"""HTTP routes of governance: firearms licences, kill switches, strategy locks and three-wise
questions (temperature corridors and budgets: ``budget_routes.py``). Writes need an admin and
respect strategy locks; every list is the caller's tenant and env only."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.governance.budget_routes import budget, temperature
from studio.governance.services import governance_services
from studio.governance.three_wise import ThreeWiseService
from studio.kernel import errors
from studio.kernel.call import Call, Reply
from studio.kernel.model_refs import RevisionQuery, models
from studio.kernel.query_spec import OneOf, QuerySpec, Text
from studio.kernel.roles import Role
from studio.kernel.routing import Router

if TYPE_CHECKING:
    from studio.governance import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.governance.models")

# restates m.LicenceQuery so a plainly valid query needs no pydantic (kernel/query_spec.py, decision 0097)
LICENCES = QuerySpec(m.LicenceQuery, {
    "subject_type": OneOf(("user", "agent", "api_client")),
    "subject_id": Text(pattern=r"^[A-Za-z0-9_.@:-]+$", min_length=1, max_length=128)})

firearms = Router("governance")
switches = Router("governance")
locks = Router("governance")
three_wise = Router("governance")


# -- firearms licences -----------------------------------------------------------------------
@firearms.tenant("GET", "/firearms/licences", role=Role.VIEWER, query=LICENCES, response=m.LicenceList)
def list_licences(call: Call) -> Any:
    """Licences of the tenant and env; ?subject_type=&subject_id= for one subject's."""
    return governance_services(call.deps).licences.list_licences(call.need_ctx(), call.query.subject_type,
                                                                 call.query.subject_id)


@firearms.tenant("POST", "/firearms/licences", role=Role.ADMIN, body=m.LicenceIn, response=m.LicenceOut, status=201)
def issue_licence(call: Call) -> Any:
    """Issue a licence to a user, an agent or an API client: tools or a danger level, until it expires."""
    ctx, body = call.need_ctx(), call.body
    services = governance_services(call.deps)
    services.locks.check_scope_unlocked(ctx, "licences")
    view, _ = services.licences.issue(ctx, subject_type=body.subject_type, subject_id=body.subject_id,
                                      tools=body.tools, danger=body.danger, note=body.note,
                                      expires_at=body.expires_at.isoformat(timespec="microseconds").replace("+00:00", "Z"))
    return view


def _licence_rev(call: Call) -> int | None:
    return governance_services(call.deps).licences.current_rev(call.need_ctx(), call.params["licence_id"])


@firearms.tenant("POST", "/firearms/licences/{licence_id}/revoke", role=Role.ADMIN, body=m.RevokeIn,
                 response=m.LicenceOut, revisioned=True, current_rev=_licence_rev)
def revoke_licence(call: Call) -> Any:
    """Revoke a licence (kept, as history); needs If-Match or base_rev."""
    ctx = call.need_ctx()
    services = governance_services(call.deps)
    services.locks.check_scope_unlocked(ctx, "licences")
    view, _ = services.licences.revoke(ctx, call.params["licence_id"], call.expected_rev())
    return view


@firearms.tenant("GET", "/firearms/licences/check/{subject_type}/{subject_id}", role=Role.MEMBER,
                 query=m.LicenceCheckQuery, response=m.LicenceCheck)
def check_licence(call: Call) -> Any:
    """Whether a subject holds an active licence for ?tool= (or ?danger=)."""
    subject_type = call.params["subject_type"]
    if subject_type not in ("user", "agent", "api_client"):
        raise errors.StudioError(errors.VALIDATION_FAILED, "subject_type is user, agent or api_client",
                                 errors=[{"field": "path.subject_type", "message": "user, agent or api_client"}])
    return governance_services(call.deps).licences.check_subject(call.need_ctx(), subject_type,
                                                                 call.params["subject_id"], call.query.tool,
                                                                 call.query.danger)


# -- kill switches ---------------------------------------------------------------------------
@switches.tenant("GET", "/kill-switches", role=Role.VIEWER, response=m.KillSwitchList)
def list_switches(call: Call) -> Any:
    """The tenant's kill switches, and the platform-wide ones in force."""
    return governance_services(call.deps).switches.list_switches(call.need_ctx())


@switches.tenant("POST", "/kill-switches", role=Role.ADMIN, body=m.KillSwitchIn, response=m.KillSwitchOut, status=201)
def create_switch(call: Call) -> Any:
    """Block a provider, model, tool, agent or action; platform-wide needs a system identity."""
    ctx, body = call.need_ctx(), call.body
    services = governance_services(call.deps)
    if not body.platform:
        services.locks.check_scope_unlocked(ctx, "kill_switches")
    view, _ = services.switches.put(ctx, services.switches.new_id(), 0, target_kind=body.target_kind,
                                    target=body.target, reason=body.reason, active=body.active,
                                    platform=body.platform)
    return view


def _switch_rev(call: Call) -> int | None:
    return governance_services(call.deps).switches.current_rev(call.need_ctx(), call.params["switch_id"])


@switches.tenant("PATCH", "/kill-switches/{switch_id}", role=Role.ADMIN, body=m.KillSwitchPatch,
                 response=m.KillSwitchOut, revisioned=True, current_rev=_switch_rev)
def patch_switch(call: Call) -> Any:
    """Turn a switch on or off, or change its reason; needs If-Match or base_rev."""
    ctx, body = call.need_ctx(), call.body
    services = governance_services(call.deps)
    services.locks.check_scope_unlocked(ctx, "kill_switches")
    current = services.switches.get(ctx, call.params["switch_id"])
    view, _ = services.switches.put(ctx, call.params["switch_id"], call.expected_rev(),
                                    target_kind=current["target_kind"], target=current["target"],
                                    reason=body.reason if body.reason is not None else current["reason"],
                                    active=body.active if body.active is not None else current["active"])
    return view


@switches.tenant("DELETE", "/kill-switches/{switch_id}", role=Role.ADMIN, query=RevisionQuery, status=204,
                 revisioned=True, current_rev=_switch_rev)
def delete_switch(call: Call) -> Any:
    """Remove a switch; needs If-Match or ?base_rev=."""
    ctx = call.need_ctx()
    services = governance_services(call.deps)
    services.locks.check_scope_unlocked(ctx, "kill_switches")
    services.switches.remove(ctx, call.params["switch_id"], call.expected_rev())
    return Reply(None, status=204)


def _platform_switch_rev(call: Call) -> int | None:
    return governance_services(call.deps).switches.current_rev(call.need_ctx(), call.params["switch_id"], platform=True)


@switches.tenant("DELETE", "/kill-switches/platform/{switch_id}", role=Role.ADMIN, query=RevisionQuery, status=204,
                 revisioned=True, current_rev=_platform_switch_rev)
def delete_platform_switch(call: Call) -> Any:
    """Remove a platform-wide switch (system identities only); needs If-Match or ?base_rev=."""
    governance_services(call.deps).switches.remove(call.need_ctx(), call.params["switch_id"], call.expected_rev(),
                                                   platform=True)
    return Reply(None, status=204)


# -- strategy locks --------------------------------------------------------------------------
@locks.tenant("GET", "/strategy-locks", role=Role.VIEWER, response=m.LockList)
def list_locks(call: Call) -> Any:
    """The tenant's strategy locks and the scopes it may lock."""
    return governance_services(call.deps).locks.list_locks(call.need_ctx())


def _lock_rev(call: Call) -> int | None:
    return governance_services(call.deps).locks.current_rev(call.need_ctx(), call.params["scope"])


@locks.tenant("PUT", "/strategy-locks/{scope}", role=Role.ADMIN, body=m.LockIn, response=m.LockOut,
              revisioned=True, current_rev=_lock_rev)
def put_lock(call: Call) -> Any:
    """Lock (admin) or unlock (owner) a scope; base_rev 0 for a scope never set."""
    view, _ = governance_services(call.deps).locks.put(call.need_ctx(), call.params["scope"], call.expected_rev(),
                                                       locked=call.body.locked, reason=call.body.reason)
    return view


# -- three-wise questions --------------------------------------------------------------------
def _questions(call: Call) -> ThreeWiseService:
    return ThreeWiseService(call.deps.store)


@three_wise.tenant("GET", "/three-wise/questions", role=Role.VIEWER, query=m.QuestionQuery, response=m.QuestionList)
def list_questions(call: Call) -> Any:
    """Questions, newest first; ?status= to filter."""
    q = call.query
    return _questions(call).list_questions(call.need_ctx(), q.status, q.limit, q.page_token)


@three_wise.tenant("POST", "/three-wise/questions", role=Role.MEMBER, body=m.QuestionIn, response=m.QuestionOut,
                   status=201)
def propose(call: Call) -> Any:
    """Propose a change (a /commands envelope) for review by N admins or owners other than you."""
    b = call.body
    return _questions(call).propose(call.deps, call.need_ctx(), b.command, b.required, b.rationale)


@three_wise.tenant("GET", "/three-wise/questions/{question_id}", role=Role.VIEWER, response=m.QuestionOut)
def get_question(call: Call) -> Any:
    """One question with its votes, verdict and history."""
    return _questions(call).get(call.need_ctx(), call.params["question_id"])


@three_wise.tenant("POST", "/three-wise/questions/{question_id}/votes", role=Role.ADMIN, body=m.VoteIn,
                   response=m.QuestionOut)
def vote(call: Call) -> Any:
    """Approve or reject; the approval that reaches N applies the command with its base_rev."""
    b = call.body
    return _questions(call).vote(call.deps, call.need_ctx(), call.params["question_id"], b.verdict, b.comment)


ROUTERS = (firearms, switches, locks, three_wise, temperature, budget)
