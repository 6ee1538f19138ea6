"""Chat function: threads, messages (durable, seq-ordered) and realtime tickets."""
import functions_framework

from studio.bootstrap import bootstrap
from studio.kernel.http_app import HttpApp


def routers():  # noqa: ANN201 - loaded on the first request that needs them (cold start)
    from studio.wiring import chat_routers  # chat's routes and the realtime ticket route

    return chat_routers()


app = HttpApp("chat", routers, bootstrap)


@functions_framework.http
def chat(request):  # noqa: ANN001 - flask.Request, typed by the framework
    return app(request)
