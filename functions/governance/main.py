"""Governance function: firearms licences, kill switches, strategy locks, three-wise questions,
temperature corridors and budgets."""
import functions_framework

from studio import domains
from studio.bootstrap import bootstrap
from studio.kernel.http_app import HttpApp


def deps():  # noqa: ANN201 - the bootstrap's Deps, with every domain's command types for three-wise questions
    from studio.governance.three_wise import COMMAND_REGISTRY
    from studio.kernel.command_registry import CommandRegistry

    instance = bootstrap()
    instance.memo(COMMAND_REGISTRY, lambda: CommandRegistry(domains.command_types))  # read on first use
    return instance


# The routers (and the models they import) load on the first request that needs them: cold start.
app = HttpApp("governance", lambda: domains.routers("governance"), deps)


@functions_framework.http
def governance(request):  # noqa: ANN001 - flask.Request, typed by the framework
    return app(request)
