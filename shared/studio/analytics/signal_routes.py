"""The signals registry (/signals) and personalisation (/personalization)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.analytics.services import analytics_services
from studio.kernel import errors
from studio.kernel.call import Call
from studio.kernel.model_refs import RevisionQuery, models
from studio.kernel.roles import Role
from studio.kernel.routing import Router

if TYPE_CHECKING:
    from studio.analytics import signal_models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.analytics.signal_models")

signals = Router("signals")
personalization = Router("personalization")


@signals.tenant("GET", "/signals", role=Role.VIEWER, response=m.SignalList)
def list_signals(call: Call) -> Any:
    """The tenant's signal definitions."""
    return analytics_services(call.deps).signals.list_signals(call.need_ctx())


@signals.tenant("POST", "/signals", role=Role.ADMIN, body=m.SignalIn, response=m.SignalOut, status=201)
def create_signal(call: Call) -> Any:
    """Define a signal: typed, from a source event and filter, over a window, with an aggregation."""
    return analytics_services(call.deps).signals.create(call.need_ctx(), call.body.model_dump(mode="json"))


@signals.tenant("GET", "/signals/subjects/{subject_id}", role=Role.VIEWER, response=m.SubjectSignals)
def subject_values(call: Call) -> Any:
    """A subject's signal values (the user id, else the browser's anonymous id)."""
    subject = call.params["subject_id"]
    from pydantic import TypeAdapter, ValidationError

    from studio.analytics.models import Id  # pydantic's: loaded by the first request that needs it

    try:
        TypeAdapter(Id).validate_python(subject)
    except ValidationError:
        raise errors.NotFound("no such subject") from None
    ctx = call.need_ctx()
    return analytics_services(call.deps).signals.values(ctx.tenant_id, ctx.env, subject)


@signals.tenant("GET", "/signals/{signal_id}", role=Role.VIEWER, response=m.SignalOut)
def get_signal(call: Call) -> Any:
    """One signal definition."""
    return analytics_services(call.deps).signals.get(call.need_ctx(), call.params["signal_id"])


def _signal_rev(call: Call) -> int | None:
    return analytics_services(call.deps).signals.current_rev(call.need_ctx(), call.params["signal_id"])


@signals.tenant("PATCH", "/signals/{signal_id}", role=Role.ADMIN, body=m.SignalPatch, response=m.SignalOut,
                revisioned=True, current_rev=_signal_rev)
def edit_signal(call: Call) -> Any:
    """Change a signal; its values start over from the change (never recomputed by rescanning)."""
    changes = call.body.model_dump(mode="json", exclude_unset=True, exclude={"base_rev"})
    return analytics_services(call.deps).signals.edit(call.need_ctx(), call.params["signal_id"], changes,
                                                      call.expected_rev())


@signals.tenant("DELETE", "/signals/{signal_id}", role=Role.ADMIN, query=RevisionQuery, status=204,
                revisioned=True, current_rev=_signal_rev)
def delete_signal(call: Call) -> Any:
    """Delete a signal definition; needs If-Match or ?base_rev=."""
    analytics_services(call.deps).signals.delete(call.need_ctx(), call.params["signal_id"], call.expected_rev())


@personalization.tenant("GET", "/personalization/rules", role=Role.VIEWER, response=m.RuleList)
def list_rules(call: Call) -> Any:
    """The tenant's personalisation rules, in the order they are tried."""
    return analytics_services(call.deps).rules.list_rules(call.need_ctx())


@personalization.tenant("POST", "/personalization/rules", role=Role.ADMIN, body=m.RuleIn, response=m.RuleOut,
                        status=201)
def create_rule(call: Call) -> Any:
    """Bind a segment (a condition over signals and attributes) to a content variant for a slot."""
    return analytics_services(call.deps).rules.create(call.need_ctx(), call.body.model_dump(mode="json"))


def _rule_rev(call: Call) -> int | None:
    return analytics_services(call.deps).rules.current_rev(call.need_ctx(), call.params["rule_id"])


@personalization.tenant("PATCH", "/personalization/rules/{rule_id}", role=Role.ADMIN, body=m.RulePatch,
                        response=m.RuleOut, revisioned=True, current_rev=_rule_rev)
def edit_rule(call: Call) -> Any:
    """Change a rule; needs If-Match or base_rev."""
    changes = call.body.model_dump(mode="json", exclude_unset=True, exclude={"base_rev"})
    return analytics_services(call.deps).rules.edit(call.need_ctx(), call.params["rule_id"], changes,
                                                    call.expected_rev())


@personalization.tenant("DELETE", "/personalization/rules/{rule_id}", role=Role.ADMIN, query=RevisionQuery,
                        status=204, revisioned=True, current_rev=_rule_rev)
def delete_rule(call: Call) -> Any:
    """Delete a rule; needs If-Match or ?base_rev=."""
    analytics_services(call.deps).rules.delete(call.need_ctx(), call.params["rule_id"], call.expected_rev())


@personalization.tenant("POST", "/personalization/resolve", role=Role.VIEWER, body=m.ResolveIn, response=m.ResolveOut)
def resolve(call: Call) -> Any:
    """The content variant of each slot for a subject: the first rule whose segment matches."""
    b = call.body
    return analytics_services(call.deps).rules.resolve(call.need_ctx(), b.subject, dict(b.attributes), list(b.slots))
