"""Provenance function: the ledger's entries, lineage and verification, and artifacts' C2PA manifests."""
import functions_framework

from studio import domains
from studio.bootstrap import bootstrap
from studio.kernel.http_app import HttpApp

# The routers (and the models they import) load on the first request that needs them: cold start.
app = HttpApp("provenance", lambda: domains.routers("provenance"), bootstrap)


@functions_framework.http
def provenance(request):  # noqa: ANN001 - flask.Request, typed by the framework
    return app(request)
