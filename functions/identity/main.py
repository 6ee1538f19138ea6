"""Identity function: accounts, tokens, JWKS, tenants and memberships."""
import functions_framework

from studio.bootstrap import bootstrap
from studio.kernel.http_app import HttpApp


def routers():  # noqa: ANN201 - loaded on the first request that needs them (cold start)
    from studio.identity.routes import ROUTERS

    return ROUTERS


app = HttpApp("identity", routers, bootstrap)


@functions_framework.http
def identity(request):  # noqa: ANN001 - flask.Request, typed by the framework
    return app(request)
