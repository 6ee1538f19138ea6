"""HTTP routes of the runtime configuration: GET and PUT /runtime-config (per tenant and env)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.kernel.call import Call
from studio.kernel.model_refs import models
from studio.kernel.roles import Role
from studio.kernel.routing import Router
from studio.runtime_config.configs import Choice
from studio.runtime_config.services import runtime_config_services

if TYPE_CHECKING:
    from studio.runtime_config import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.runtime_config.models")

runtime_config = Router("runtime_config")


@runtime_config.tenant("GET", "/runtime-config", role=Role.VIEWER, response=m.RuntimeConfigOut)
def get_runtime_config(call: Call) -> Any:
    """Which provider and model each agent and the embeddings use here (rev 0: the deployment's)."""
    ctx = call.need_ctx()
    configs = runtime_config_services(call.deps).configs
    return configs.view(configs.get(ctx.tenant_id, ctx.env))


def runtime_config_rev(call: Call) -> int | None:
    ctx = call.need_ctx()
    return runtime_config_services(call.deps).configs.get(ctx.tenant_id, ctx.env).rev


def _choice(model: m.ModelChoice | None) -> Choice | None:
    return None if model is None else Choice(model.provider, model.model)


@runtime_config.tenant("PUT", "/runtime-config", role=Role.ADMIN, body=m.RuntimeConfigIn,
                       response=m.RuntimeConfigOut, revisioned=True, current_rev=runtime_config_rev)
def put_runtime_config(call: Call) -> Any:
    """Replace the configuration; needs If-Match or base_rev (0 for the first write). Agents may only
    name the provider this deployment runs (422 PROVIDER_NOT_DEPLOYED)."""
    body: m.RuntimeConfigIn = call.body
    configs = runtime_config_services(call.deps).configs
    agents = {agent: Choice(c.provider, c.model) for agent, c in body.agents.items()}
    return configs.view(configs.put(call.need_ctx(), agents, _choice(body.default), _choice(body.embeddings),
                                    call.expected_rev()))


ROUTERS = (runtime_config,)
