"""Experiments function: experiments and flags (GrowthBook-compatible assignment), OFREP evaluation, results."""
import functions_framework

from studio import domains
from studio.bootstrap import bootstrap
from studio.kernel.http_app import HttpApp

# The routers (and the models they import) load on the first request that needs them: cold start.
app = HttpApp("experiments", lambda: domains.routers("experiments"), bootstrap)


@functions_framework.http
def experiments(request):  # noqa: ANN001 - flask.Request, typed by the framework
    return app(request)
