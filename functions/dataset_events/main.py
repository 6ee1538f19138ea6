"""Dataset events function: log DatasetEvents, read them back, training preferences, the privacy policy."""
import functions_framework

from studio import domains
from studio.bootstrap import bootstrap
from studio.kernel.http_app import HttpApp

# The routers (and the models they import) load on the first request that needs them: cold start.
app = HttpApp("dataset_events", lambda: domains.routers("events", "privacy"), bootstrap)


@functions_framework.http
def dataset_events(request):  # noqa: ANN001 - flask.Request, typed by the framework
    return app(request)
