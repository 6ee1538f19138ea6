"""The analytics domain's own error codes (ingest keys and origins, signals, journeys).

The values and statuses are a contract with browsers and the console: never change one, add a new code.
"""
from __future__ import annotations

from studio.kernel.errors import register

WRITE_KEY_INVALID = register("WRITE_KEY_INVALID", 401, "The site write key is missing, unknown or revoked")
EVENT_INVALID = register("EVENT_INVALID", 422, "An analytics event does not match its schema")
SIGNAL_NAME_TAKEN = register("SIGNAL_NAME_TAKEN", 409, "A signal with this name already exists")
SIGNAL_INVALID = register("SIGNAL_INVALID", 422, "The signal's type, window and aggregation do not fit together")
SEGMENT_INVALID = register("SEGMENT_INVALID", 422, "The segment condition is not valid")
