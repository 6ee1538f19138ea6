"""Where DatasetEvents travel and how their times are written, apart from the models: a producer
that holds a logger but has not logged yet, or a read that finds nothing, imports no pydantic
(decision 0097)."""
from __future__ import annotations

from datetime import UTC, datetime

TOPIC = "dataset-events"  # the logger publishes here; the writer function is subscribed
EVENT_TYPE = "dataset_event.logged"  # the ``type`` attribute of every message on TOPIC


def rfc3339(value: datetime) -> str:
    """Fixed-width UTC (always 6 fractional digits, ``Z``): stored timestamps then sort as strings.

    pydantic drops the fraction when it is zero, and "12:00:00Z" sorts after "12:00:00.5Z"; and
    ``%Y`` does not pad years before 1000 on glibc ("999-..." would sort after "2025-...").
    """
    utc = value.astimezone(UTC)
    return f"{utc.year:04d}" + utc.strftime("-%m-%dT%H:%M:%S.%fZ")
