"""The analytics store on BigQuery, over its REST API (v2) with plain urllib: no client library on cold start.

Layout (terraform/analytics.tf): the dataset holds ``events_raw``, the table rows land in (the
Pub/Sub-to-BigQuery subscription on ``analytics.events``, or ``insert`` here), and ``events``, a
view keeping the first row per ``event_id``. Pub/Sub and ``insertAll`` deliver at least once, and
``insertId`` deduplication is only best effort, so the port's "idempotent per event_id" is kept
where it can be kept for sure: at read time (decision 0055).

* ``insert``: ``POST .../tables/events_raw/insertAll``, ``insertId`` = event_id.
* ``query``: ``POST .../queries`` (standard SQL, ``parameterMode: NAMED``, the dataset as the
  default so ``events`` names the view), polled with ``GET .../queries/{jobId}`` until complete,
  then paged with ``pageToken``. Cells come back as text; the schema says how to read them.

Failures (network, 401/403 of our credential, 429, 5xx) raise ``errors.Unavailable``; a 400 (the
caller's SQL) raises ValueError with BigQuery's message.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from studio.kernel import errors
from studio.ports.analytics import row_json

PRODUCTION_ENDPOINT = "https://bigquery.googleapis.com"
RAW_TABLE = "events_raw"
_MAX_ROWS_PER_INSERT = 500  # BigQuery recommends at most 500 rows per insertAll request


def query_parameter(name: str, value: Any) -> dict[str, Any]:
    """One named query parameter in BigQuery's REST shape."""
    if isinstance(value, (list, tuple)):
        kinds = {_scalar_type(v) for v in value} or {"STRING"}
        if len(kinds) != 1:
            raise ValueError(f"@{name}: an array parameter needs one element type")
        return {"name": name, "parameterType": {"type": "ARRAY", "arrayType": {"type": kinds.pop()}},
                "parameterValue": {"arrayValues": [{"value": _scalar_text(v)} for v in value]}}
    if value is None:
        return {"name": name, "parameterType": {"type": "STRING"}, "parameterValue": {}}
    return {"name": name, "parameterType": {"type": _scalar_type(value)},
            "parameterValue": {"value": _scalar_text(value)}}


def _scalar_type(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, datetime):
        return "TIMESTAMP"
    if isinstance(value, str):
        return "STRING"
    raise ValueError(f"unsupported query parameter type: {type(value).__name__}")


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
    return str(value)


def read_cell(kind: str, value: Any) -> Any:
    """A REST cell (text, or null) as Python, by its schema type."""
    if value is None:
        return None
    if kind in ("INTEGER", "INT64"):
        return int(value)
    if kind in ("FLOAT", "FLOAT64", "NUMERIC", "BIGNUMERIC"):
        return float(value)
    if kind in ("BOOLEAN", "BOOL"):
        return value == "true"
    if kind == "TIMESTAMP":  # seconds since the epoch, as text (possibly in exponent form)
        return datetime.fromtimestamp(float(value), UTC)
    return value


class BigQueryAnalytics:
    def __init__(self, project: str, dataset: str, *, endpoint: str = PRODUCTION_ENDPOINT,
                 credentials_provider: Callable[[], str] | None = None, timeout_s: float = 30,
                 location: str = "") -> None:
        if not project or not dataset:
            raise ValueError("a project and a dataset are required")
        if credentials_provider is None:
            raise ValueError("credentials_provider is required "
                             "(studio.adapters.google_credentials.access_token_provider() in production)")
        self.project, self.dataset = project, dataset
        self._base = f"{endpoint.rstrip('/')}/bigquery/v2/projects/{urllib.parse.quote(project)}"
        self._token = credentials_provider
        self._timeout_s = timeout_s
        self._location = location

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            self._base + path, data=None if body is None else json.dumps(body).encode(), method=method,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._token()}"})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as resp:  # noqa: S310 (URL we built)
                doc = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            try:
                detail = _message(exc.read())
            except OSError:
                detail = ""
            finally:
                exc.close()
            if exc.code == 400:
                raise ValueError(f"BigQuery refused the request: {detail}") from None
            raise errors.Unavailable(f"BigQuery {method} failed (HTTP {exc.code}) {detail}".rstrip()) from None
        except (OSError, ValueError) as exc:
            raise errors.Unavailable(f"BigQuery {method} failed ({type(exc).__name__})") from None
        if not isinstance(doc, dict):
            raise errors.Unavailable("BigQuery returned an unexpected body")
        return doc

    def insert(self, rows: Sequence[Mapping[str, Any]]) -> None:
        prepared = []
        for row in rows:
            event_id = row.get("event_id")
            if not isinstance(event_id, str) or not event_id:
                raise ValueError("every analytics row needs an event_id")
            prepared.append({"insertId": event_id, "json": row_json(row)})
        table = f"/datasets/{urllib.parse.quote(self.dataset)}/tables/{RAW_TABLE}/insertAll"
        for start in range(0, len(prepared), _MAX_ROWS_PER_INSERT):
            answer = self._call("POST", table, {"rows": prepared[start:start + _MAX_ROWS_PER_INSERT],
                                                "skipInvalidRows": False, "ignoreUnknownValues": False})
            if answer.get("insertErrors"):
                raise ValueError(f"BigQuery refused rows: {json.dumps(answer['insertErrors'])[:500]}")

    def query(self, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        body: dict[str, Any] = {
            "query": sql, "useLegacySql": False, "parameterMode": "NAMED",
            "queryParameters": [query_parameter(k, v) for k, v in params.items()],
            "defaultDataset": {"projectId": self.project, "datasetId": self.dataset},
            "timeoutMs": int(self._timeout_s * 1000), "formatOptions": {"useInt64Timestamp": False},
        }
        if self._location:
            body["location"] = self._location
        answer = self._call("POST", "/queries", body)
        deadline = time.monotonic() + 10 * self._timeout_s
        while not answer.get("jobComplete"):
            if time.monotonic() > deadline:
                raise errors.Unavailable("BigQuery query did not complete in time")
            answer = self._call("GET", self._results_path(answer, ""))
        fields = answer.get("schema", {}).get("fields", [])
        rows = list(answer.get("rows", []))
        token = answer.get("pageToken")
        while token:
            page = self._call("GET", self._results_path(answer, token))
            rows.extend(page.get("rows", []))
            token = page.get("pageToken")
        return [{f["name"]: read_cell(f["type"], cell.get("v")) for f, cell in zip(fields, row["f"], strict=True)}
                for row in rows]

    def _results_path(self, answer: Mapping[str, Any], page_token: str) -> str:
        job = answer.get("jobReference", {})
        query = {"timeoutMs": str(int(self._timeout_s * 1000))}
        if job.get("location"):
            query["location"] = job["location"]
        if page_token:
            query["pageToken"] = page_token
        return f"/queries/{urllib.parse.quote(job.get('jobId', ''))}?{urllib.parse.urlencode(query)}"


def _message(body: bytes) -> str:
    try:
        doc = json.loads(body)
        return str(doc.get("error", {}).get("message", ""))[:500]
    except (ValueError, AttributeError):
        return ""
