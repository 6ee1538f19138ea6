"""Video function: projects and their timelines, the timeline schema, render jobs."""
import functions_framework

from studio import domains
from studio.bootstrap import bootstrap
from studio.kernel.http_app import HttpApp

# The routers (and the models they import) load on the first request that needs them: cold start.
app = HttpApp("video", lambda: domains.routers("video"), bootstrap)


@functions_framework.http
def video(request):  # noqa: ANN001 - flask.Request, typed by the framework
    return app(request)
