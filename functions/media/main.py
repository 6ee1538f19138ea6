"""Media function: uploads, assets and artifacts (/media-v2)."""
import functions_framework

from studio import domains
from studio.bootstrap import bootstrap
from studio.kernel.http_app import HttpApp

# The routers (and the models they import) load on the first request that needs them: cold start.
app = HttpApp("media", lambda: domains.routers("media"), bootstrap)


@functions_framework.http
def media(request):  # noqa: ANN001 - flask.Request, typed by the framework
    return app(request)
