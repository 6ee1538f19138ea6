"""The realtime gateway on Cloud Run: ``python main.py`` in the container built by the Dockerfile
beside this file (the image vendors shared/studio as the function zips do). It serves through the
same bounded server as the local runtime: request heads and bodies limited in time and size,
idle connections closed (studio.kernel.http_limits; STUDIO_HTTP_* variables)."""
import os

from studio.bootstrap import bootstrap
from studio.kernel.asgi_body import BoundedBody
from studio.kernel.http_limits import HttpLimits
from studio.wiring import realtime_gateway

limits = HttpLimits.from_env()
gateway = realtime_gateway(bootstrap())
app = BoundedBody(gateway, limits)

if __name__ == "__main__":
    import uvicorn

    from studio.kernel.http_server import server_options

    # The process's collector: open streams kept out of full collections (decision 0104, STUDIO_GATEWAY_GC).
    gateway.state.gateway.start_heap_policy()

    uvicorn.run(app, host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "8080")),  # noqa: S104 - a container
                access_log=False, timeout_graceful_shutdown=10, ws_per_message_deflate=False, **server_options(limits))
