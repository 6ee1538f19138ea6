"""Analytics function: browser event ingest per site, signals, personalisation, journeys and SEO page configs."""
import functions_framework

from studio import domains
from studio.bootstrap import bootstrap
from studio.kernel.http_app import HttpApp

# The routers (and the models they import) load on the first request that needs them: cold start.
app = HttpApp("analytics", lambda: domains.routers("analytics"), bootstrap)


@functions_framework.http
def analytics(request):  # noqa: ANN001 - flask.Request, typed by the framework
    return app(request)
