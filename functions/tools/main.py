"""Tools function: the tool registry, THE invoke path (every gate), its exports, and the MCP server."""
import functions_framework

from studio import domains
from studio.bootstrap import bootstrap
from studio.kernel.http_app import HttpApp

# The routers (and the models they import) load on the first request that needs them: cold start.
app = HttpApp("tools", lambda: domains.routers("tools"), bootstrap)


@functions_framework.http
def tools(request):  # noqa: ANN001 - flask.Request, typed by the framework
    return app(request)
