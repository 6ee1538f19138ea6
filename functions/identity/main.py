"""Identity function: accounts, tokens, JWKS, tenants and memberships, and tenants' BYOK keys."""
import functions_framework

from studio import domains
from studio.bootstrap import bootstrap
from studio.kernel.http_app import HttpApp

# The routers (and the models they import) load on the first request that needs them: cold start.
app = HttpApp("identity", lambda: domains.routers("identity", "byok"), bootstrap)


@functions_framework.http
def identity(request):  # noqa: ANN001 - flask.Request, typed by the framework
    return app(request)
