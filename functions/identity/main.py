"""Identity function: accounts, tokens, JWKS, tenants and memberships."""
import functions_framework

from studio.bootstrap import bootstrap
from studio.identity.routes import ROUTERS
from studio.kernel.http_app import HttpApp

app = HttpApp("identity", ROUTERS, bootstrap)


@functions_framework.http
def identity(request):  # noqa: ANN001 - flask.Request, typed by the framework
    return app(request)
