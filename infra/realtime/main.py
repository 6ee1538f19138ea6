"""The realtime gateway on Cloud Run: ``uvicorn main:app`` in the container built by the
Dockerfile beside this file (the image vendors shared/studio as the function zips do)."""
from studio.bootstrap import bootstrap
from studio.wiring import realtime_gateway

app = realtime_gateway(bootstrap())
