"""Commands function: the POST /commands envelope over every domain's command table."""
import functions_framework

from studio import domains
from studio.bootstrap import bootstrap
from studio.kernel.http_app import HttpApp


def routers():  # noqa: ANN201 - loaded on the first request that needs them (cold start)
    from studio.kernel.command_routes import command_router
    from studio.kernel.command_registry import CommandRegistry

    return [command_router(CommandRegistry(domains.command_types()))]  # every domain's, from its registry row


app = HttpApp("commands", routers, bootstrap)


@functions_framework.http
def commands(request):  # noqa: ANN001 - flask.Request, typed by the framework
    return app(request)
