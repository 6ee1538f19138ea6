"""The analytics store port: one append-only table of browser and product events, queried with SQL.

Locally DuckDB (a file under the data dir), on Google Cloud BigQuery. Both adapters keep one table,
``events``, with the columns of ``COLUMNS``, and answer the same SQL: the common subset of DuckDB and
BigQuery Standard SQL (SELECT / WHERE / GROUP BY / ORDER BY / LIMIT, COUNT, COUNT(DISTINCT), SUM, AVG,
MIN, MAX, window functions with ``OVER (PARTITION BY .. ORDER BY ..)``, ``LAG``/``LEAD``,
``ROW_NUMBER``; an array parameter as ``x IN (SELECT * FROM UNNEST(@ids))``). Parameters are named BigQuery's way, ``@name``; the DuckDB adapter translates them.
Timestamps go in as timezone-aware ``datetime`` (or RFC 3339 text) and come out as UTC ``datetime``.

Semantics every adapter keeps (tests/contract/test_analytics_store_contract.py checks them):

* ``insert`` is idempotent per ``event_id``: a row whose ``event_id`` is already stored is skipped, so a
  redelivered bus message never counts an event twice;
* a missing column is NULL; ``props`` is a JSON object serialised as text;
* every query a caller writes filters on ``tenant_id`` and ``env`` itself: the table is shared by tenants.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

TABLE = "events"
# The bus topic rows travel on, one row per message (JSON, ``row_json``): the analytics writer stores them
# locally, and on Google Cloud a Pub/Sub-to-BigQuery subscription writes them into the table. Any domain
# may publish a row here (the experiments domain publishes its exposures).
TOPIC = "analytics.events"

# column -> its SQL type (DuckDB spelling; the BigQuery schema maps them: VARCHAR -> STRING, DOUBLE -> FLOAT64).
COLUMNS: Mapping[str, str] = {
    "tenant_id": "VARCHAR",
    "env": "VARCHAR",
    "site_id": "VARCHAR",
    "event_id": "VARCHAR",
    "type": "VARCHAR",  # pageview | cta_click | web_vitals | exposure | custom ...
    "ts": "TIMESTAMP",
    "anonymous_id": "VARCHAR",
    "user_id": "VARCHAR",
    "session_id": "VARCHAR",
    "url": "VARCHAR",
    "canonical_url": "VARCHAR",
    "page_type": "VARCHAR",
    "surface": "VARCHAR",
    "referrer": "VARCHAR",
    "utm_source": "VARCHAR",
    "utm_medium": "VARCHAR",
    "utm_campaign": "VARCHAR",
    "utm_term": "VARCHAR",
    "utm_content": "VARCHAR",
    "name": "VARCHAR",  # the event's or metric's name (LCP, INP ... for web_vitals; the CTA's id ...)
    "value": "DOUBLE",
    "props": "VARCHAR",  # a JSON object, as text
}


class AnalyticsStore(Protocol):
    def insert(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Append rows to ``events`` (keys: a subset of COLUMNS, ``event_id`` required); a row whose
        event_id is already stored is skipped. Raises ValueError for an unknown column."""
        ...

    def query(self, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run one SELECT with ``@name`` parameters; rows as dicts keyed by the result's column names.
        ValueError for SQL the store refuses or a parameter without a value."""
        ...


def row_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as JSON: ``ts`` RFC 3339 UTC (what BigQuery and its Pub/Sub subscription take), ``props`` as
    text, ``value`` a float, nulls left out. ValueError for a column the table does not have."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if name not in COLUMNS:
            raise ValueError(f"unknown analytics column: {name!r}")
        if value is None:
            continue
        if name == "ts":
            if isinstance(value, str):
                value = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if not isinstance(value, datetime):
                raise ValueError(f"ts must be a datetime or RFC 3339 text, not {type(value).__name__}")
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            value = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        elif name == "props" and not isinstance(value, str):
            value = json.dumps(value, separators=(",", ":"), sort_keys=True)
        elif name == "value":
            value = float(value)
        out[name] = value
    return out


def encode_message(row: Mapping[str, Any]) -> bytes:
    """The body of one ``analytics.events`` message."""
    return json.dumps(row_json(row), separators=(",", ":"), allow_nan=False).encode()


def message_attributes(row: Mapping[str, Any]) -> dict[str, str]:
    """tenant/env/type, as every bus message carries, so a subscription can filter without decoding."""
    return {"tenant": str(row.get("tenant_id", "")), "env": str(row.get("env", "")), "type": str(row.get("type", ""))}
