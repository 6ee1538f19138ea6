"""Runtime configuration function: which provider and model each agent uses, and the cloud probes."""
import functions_framework

from studio import domains
from studio.bootstrap import bootstrap
from studio.kernel.http_app import HttpApp

# The routers (and the models they import) load on the first request that needs them: cold start.
app = HttpApp("runtime_config", lambda: domains.routers("runtime_config", "probes"), bootstrap)


@functions_framework.http
def runtime_config(request):  # noqa: ANN001 - flask.Request, typed by the framework
    return app(request)
