"""Dataset events function: log DatasetEvents, read them back, training preferences."""
import functions_framework

from studio.bootstrap import bootstrap
from studio.kernel.http_app import HttpApp


def routers():  # noqa: ANN201 - loaded on the first request that needs them (cold start)
    from studio.events.routes import ROUTERS

    return ROUTERS


app = HttpApp("dataset_events", routers, bootstrap)


@functions_framework.http
def dataset_events(request):  # noqa: ANN001 - flask.Request, typed by the framework
    return app(request)
