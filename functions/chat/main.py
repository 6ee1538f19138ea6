"""Chat function: threads, messages (durable, seq-ordered) and realtime tickets."""
import functions_framework

from studio import domains
from studio.bootstrap import bootstrap
from studio.kernel.http_app import HttpApp

# The routers (and the models they import) load on the first request that needs them: cold start.
app = HttpApp("chat", lambda: domains.routers("chat"), bootstrap)


@functions_framework.http
def chat(request):  # noqa: ANN001 - flask.Request, typed by the framework
    return app(request)
