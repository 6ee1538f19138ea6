"""Structured JSON logs in Cloud Logging's format, with the request id from a contextvar.

The same contextvar serves the WSGI functions and the ASGI gateway.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
trace_var: ContextVar[str] = ContextVar("trace", default="")

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
_SEVERITY = {"DEBUG": "DEBUG", "INFO": "INFO", "WARNING": "WARNING", "ERROR": "ERROR", "CRITICAL": "CRITICAL"}


def new_request_id(incoming: str | None) -> str:
    """Keep a caller's id when it is sane (so traces join up), else mint one."""
    if incoming and _SAFE_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


class CloudLoggingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": _SEVERITY.get(record.levelname, "DEFAULT"),
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "logger": record.name,
        }
        rid = request_id_var.get()
        if rid:
            entry["request_id"] = rid
            entry["logging.googleapis.com/labels"] = {"request_id": rid}
        trace = trace_var.get()
        if trace:
            entry["logging.googleapis.com/trace"] = trace
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["stack_trace"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


_configured = False


def configure(level: str = "INFO") -> None:
    """Idempotent: one JSON handler on the root logger, writing to stderr."""
    global _configured
    if _configured:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(CloudLoggingFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    _configured = True


def get(name: str) -> logging.Logger:
    return logging.getLogger(name)
