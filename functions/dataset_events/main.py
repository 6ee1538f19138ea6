"""Dataset events function: log DatasetEvents, read them back, training preferences."""
import functions_framework

from studio.bootstrap import bootstrap
from studio.events.routes import ROUTERS
from studio.kernel.http_app import HttpApp

app = HttpApp("dataset_events", ROUTERS, bootstrap)


@functions_framework.http
def dataset_events(request):  # noqa: ANN001 - flask.Request, typed by the framework
    return app(request)
