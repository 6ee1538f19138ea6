"""HTTP routes of the experiments function: /experiments, /flags (and their SDK keys), /ofrep."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.experiments import ofrep, results, sdk_keys, simulate
from studio.experiments.services import experiments_services
from studio.kernel.call import Call, Reply
from studio.kernel.model_refs import models
from studio.kernel.query_spec import QuerySpec, page
from studio.kernel.roles import Role
from studio.kernel.routing import Router

if TYPE_CHECKING:
    from studio.experiments import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.experiments.models")

# restates m.ListQuery so a plainly valid query needs no pydantic (kernel/query_spec.py, decision 0097)
LIST = QuerySpec(m.ListQuery, page(200))

experiments = Router("experiments")
flags = Router("flags")
evaluation = Router("ofrep")


@experiments.tenant("GET", "/experiments", role=Role.VIEWER, query=LIST, response=m.ExperimentList)
def list_experiments(call: Call) -> Any:
    """Experiments of the tenant env, newest first."""
    return experiments_services(call.deps).experiments.list_experiments(call.need_ctx(), call.query.limit,
                                                                        call.query.page_token)


@experiments.tenant("POST", "/experiments", role=Role.MEMBER, body=m.ExperimentIn, response=m.ExperimentOut,
                    status=201)
def create_experiment(call: Call) -> Any:
    """Define an experiment (a draft): variations with weights, coverage, hash attribute, namespace, condition."""
    return experiments_services(call.deps).experiments.create(call.need_ctx(), call.body)


@experiments.tenant("GET", "/experiments/{experiment_id}", role=Role.VIEWER, response=m.ExperimentOut)
def get_experiment(call: Call) -> Any:
    """One experiment."""
    return experiments_services(call.deps).experiments.get(call.need_ctx(), call.params["experiment_id"])


def _experiment_rev(call: Call) -> int | None:
    return experiments_services(call.deps).experiments.current_rev(call.need_ctx(), call.params["experiment_id"])


@experiments.tenant("PATCH", "/experiments/{experiment_id}", role=Role.MEMBER, body=m.ExperimentPatch,
                    response=m.ExperimentOut, revisioned=True, current_rev=_experiment_rev)
def patch_experiment(call: Call) -> Any:
    """Edit, start (status running) or stop (status stopped) an experiment; needs If-Match or base_rev."""
    return experiments_services(call.deps).experiments.update(call.need_ctx(), call.params["experiment_id"],
                                                              call.body, call.expected_rev())


@experiments.tenant("GET", "/experiments/{experiment_id}/results", role=Role.VIEWER, response=m.ResultsOut)
def experiment_results(call: Call) -> Any:
    """Per variation: users, the metric with uplift, 95% interval and p-value, p75 web vitals; and the SRM check."""
    ctx = call.need_ctx()
    services = experiments_services(call.deps)
    doc = services.experiments.get_doc(ctx, call.params["experiment_id"])
    return results.results(call.deps.analytics, services.read_signals, ctx.tenant_id, ctx.env, doc)


@experiments.tenant("POST", "/experiments/{experiment_id}/simulate", role=Role.MEMBER, body=m.SimulationIn,
                    response=m.SimulationOut)
def simulate_traffic(call: Call) -> Any:
    """Send simulated subjects through a running experiment (not in prod): exposures, conversions, web vitals."""
    ctx = call.need_ctx()
    services = experiments_services(call.deps)
    doc = services.experiments.get_doc(ctx, call.params["experiment_id"])
    return simulate.simulate(ctx, doc, services.enrolment, call.deps.bus, call.body.subjects, call.body.rates,
                             call.body.seed)


@flags.tenant("GET", "/flags/sdk-keys", role=Role.ADMIN, response=m.SdkKeyList)
def list_sdk_keys(call: Call) -> Any:
    """The SDK keys of the tenant env (their secrets are never shown again)."""
    return experiments_services(call.deps).sdk_keys.list_keys(call.need_ctx())


# idempotent=False: the answer carries the secret, which is stored only as its SHA-256 (not in a replay record either)
@flags.tenant("POST", "/flags/sdk-keys", role=Role.ADMIN, body=m.SdkKeyIn, response=m.SdkKeyOut, status=201,
              idempotent=False)
def create_sdk_key(call: Call) -> Any:
    """A key for OpenFeature SDKs (OFREP): send it as Authorization: Bearer; its secret is shown once."""
    return experiments_services(call.deps).sdk_keys.create(call.need_ctx(), call.body.name)


@flags.tenant("POST", "/flags/sdk-keys/{key_id}/revoke", role=Role.ADMIN, response=m.SdkKeyOut)
def revoke_sdk_key(call: Call) -> Any:
    """Revoke an SDK key (for good)."""
    return experiments_services(call.deps).sdk_keys.revoke(call.need_ctx(), call.params["key_id"])


@flags.tenant("GET", "/flags", role=Role.VIEWER, query=LIST, response=m.FlagList)
def list_flags(call: Call) -> Any:
    """Flags of the tenant env, newest first."""
    return experiments_services(call.deps).flags.list_flags(call.need_ctx(), call.query.limit, call.query.page_token)


@flags.tenant("POST", "/flags", role=Role.MEMBER, body=m.FlagIn, response=m.FlagOut, status=201)
def create_flag(call: Call) -> Any:
    """Define a flag (a draft): default value and rules (force with condition and rollout, or an experiment)."""
    return experiments_services(call.deps).flags.create(call.need_ctx(), call.body)


@flags.tenant("GET", "/flags/{flag_key}", role=Role.VIEWER, response=m.FlagOut)
def get_flag(call: Call) -> Any:
    """One flag."""
    return experiments_services(call.deps).flags.get(call.need_ctx(), call.params["flag_key"])


def _flag_rev(call: Call) -> int | None:
    return experiments_services(call.deps).flags.current_rev(call.need_ctx(), call.params["flag_key"])


@flags.tenant("PATCH", "/flags/{flag_key}", role=Role.MEMBER, body=m.FlagPatch, response=m.FlagOut,
              revisioned=True, current_rev=_flag_rev)
def patch_flag(call: Call) -> Any:
    """Edit, turn on (status running) or retire (status stopped) a flag; needs If-Match or base_rev."""
    return experiments_services(call.deps).flags.update(call.need_ctx(), call.params["flag_key"], call.body,
                                                        call.expected_rev())


@evaluation.site_key("POST", "/ofrep/v1/evaluate/flags/{key}", rule=sdk_keys.RULE, body=m.OfrepRequest,
                     response=m.OfrepEvaluation)
def ofrep_evaluate(call: Call) -> Any:
    """OFREP single flag evaluation (OpenFeature server providers); authenticated by an SDK key."""
    grant = call.need_site_key()
    attributes = ofrep.attributes_of(call.body.context)
    return experiments_services(call.deps).evaluator.evaluate(grant.tenant_id, grant.env, call.params["key"], attributes)


@evaluation.site_key("POST", "/ofrep/v1/evaluate/flags", rule=sdk_keys.RULE, body=m.OfrepRequest,
                     response=m.OfrepBulk, conditional_read=True)
def ofrep_evaluate_all(call: Call) -> Any:
    """OFREP bulk evaluation (OpenFeature client providers), with an ETag: If-None-Match answers 304."""
    grant = call.need_site_key()
    attributes = ofrep.attributes_of(call.body.context)
    flags_out = experiments_services(call.deps).evaluator.evaluate_all(grant.tenant_id, grant.env, attributes)
    return Reply({"flags": flags_out}, headers={"ETag": ofrep.bulk_etag(flags_out), "Cache-Control": "no-cache"})


@evaluation.site_key("GET", "/ofrep/v1/configuration", rule=sdk_keys.RULE, response=m.OfrepConfiguration)
def ofrep_configuration(call: Call) -> Any:
    """OFREP provider configuration (an OFREP extension): polling for bulk changes, the value types served."""
    body = ofrep.configuration()
    return Reply(body, headers={"ETag": ofrep.bulk_etag([{"key": "configuration", "value": body}]),
                                "Cache-Control": "no-cache"})


ROUTERS = (experiments, flags, evaluation)
