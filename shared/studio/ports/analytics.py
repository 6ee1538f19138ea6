"""The analytics store port: one append-only table of browser and product events, queried with SQL.

Locally DuckDB (a file under the data dir), on Google Cloud BigQuery. Both adapters keep one table,
``events``, with the columns of ``COLUMNS``, and answer the same SQL: the common subset of DuckDB and
BigQuery Standard SQL (SELECT / WHERE / GROUP BY / ORDER BY / LIMIT, COUNT, COUNT(DISTINCT), SUM, AVG,
MIN, MAX, window functions with ``OVER (PARTITION BY .. ORDER BY ..)``, ``LAG``/``LEAD``,
``ROW_NUMBER``). Parameters are named BigQuery's way, ``@name``; the DuckDB adapter translates them.
Timestamps go in as timezone-aware ``datetime`` (or RFC 3339 text) and come out as UTC ``datetime``.

Semantics every adapter keeps (tests/contract/test_analytics_store_contract.py checks them):

* ``insert`` is idempotent per ``event_id``: a row whose ``event_id`` is already stored is skipped, so a
  redelivered bus message never counts an event twice;
* a missing column is NULL; ``props`` is a JSON object serialised as text;
* every query a caller writes filters on ``tenant_id`` and ``env`` itself: the table is shared by tenants.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

TABLE = "events"

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
        """Run one SELECT with ``@name`` parameters; rows as dicts keyed by the result's column names."""
        ...
