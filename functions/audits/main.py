"""Audits function: audit jobs, static layout validation and the EAA compliance pack."""
import functions_framework

from studio import domains
from studio.bootstrap import bootstrap
from studio.kernel.http_app import HttpApp

# The routers (and the models they import) load on the first request that needs them: cold start.
app = HttpApp("audits", lambda: domains.routers("audits"), bootstrap)


@functions_framework.http
def audits(request):  # noqa: ANN001 - flask.Request, typed by the framework
    return app(request)
