"""Commands function: the POST /commands envelope over every domain's command table."""
from pathlib import Path

import functions_framework

from studio import domains
from studio.bootstrap import bootstrap
from studio.kernel.http_app import HttpApp

# GET /commands/types's body, generated from the same table by `python -m infra.command_types_doc`
TYPES_JSON = Path(__file__).with_name("command_types.json")


def routers():  # noqa: ANN201 - loaded on the first request that needs them (cold start)
    from studio.kernel.command_registry import CommandRegistry
    from studio.kernel.command_routes import command_router

    # every domain's types, from its registry row, read on the first command (they import their payload models)
    return [command_router(CommandRegistry(domains.command_types), TYPES_JSON.read_text)]


app = HttpApp("commands", routers, bootstrap)


@functions_framework.http
def commands(request):  # noqa: ANN001 - flask.Request, typed by the framework
    return app(request)
