"""The realtime gateway on Cloud Run: ``uvicorn main:app`` in the container built by the
Dockerfile beside this file (the image vendors shared/studio as the function zips do)."""
from studio.bootstrap import bootstrap
from studio.realtime.app import create_gateway

app = create_gateway(bootstrap())
