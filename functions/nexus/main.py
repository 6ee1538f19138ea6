"""Nexus function: raw documents, cards, search, settings, runs, influence packs, memory and the vector explorer."""
import functions_framework

from studio import domains
from studio.bootstrap import bootstrap
from studio.kernel.http_app import HttpApp

# The routers (and the models they import) load on the first request that needs them: cold start.
app = HttpApp("nexus", lambda: domains.routers("nexus"), bootstrap)


@functions_framework.http
def nexus(request):  # noqa: ANN001 - flask.Request, typed by the framework
    return app(request)
