"""Commands function: the POST /commands envelope over every domain's command table."""
import functions_framework

from studio.bootstrap import bootstrap
from studio.identity.commands import COMMANDS as IDENTITY_COMMANDS
from studio.kernel.command_routes import command_router
from studio.kernel.commands import CommandRegistry
from studio.kernel.http_app import HttpApp

REGISTRY = CommandRegistry([*IDENTITY_COMMANDS])
app = HttpApp("commands", [command_router(REGISTRY)], bootstrap)


@functions_framework.http
def commands(request):  # noqa: ANN001
    return app(request)
