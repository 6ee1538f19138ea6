"""All HTTP functions behind one base URL: a Flask app that hands each request to the
function owning the longest matching route prefix, exactly as functions-framework
hands a request to an HTTP function (``fn(flask.request)`` -> ``make_response``)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask
from werkzeug.exceptions import HTTPException

from infra.localrun import loader
from infra.localrun.manifest import FunctionSpec


def build(specs: list[FunctionSpec], fallback: Callable[..., Any]) -> flask.Flask:
    table: list[tuple[str, Callable[..., Any]]] = []
    for spec in specs:
        fn = loader.entrypoint(spec)
        table.extend((prefix.rstrip("/"), fn) for prefix in spec.routes)
    table.sort(key=lambda item: len(item[0]), reverse=True)

    app = flask.Flask("studio-local")
    app.url_map.strict_slashes = False
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]

    @app.errorhandler(HTTPException)
    def framework_error(exc: HTTPException) -> Any:  # e.g. a method Flask itself refuses
        return fallback(flask.request.path, exc.code or 400)

    @app.route("/", defaults={"path": ""}, methods=methods)
    @app.route("/<path:path>", methods=methods)
    def dispatch(path: str) -> Any:
        request_path = flask.request.path
        for prefix, fn in table:
            if request_path == prefix or request_path.startswith(prefix + "/"):
                return app.make_response(fn(flask.request))
        return fallback(request_path)

    return app
