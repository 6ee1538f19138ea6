"""A small in-process fake of the BigQuery v2 REST API, for the BigQuery analytics adapter's tests.

BigQuery has no local emulator, so this is the permitted fake "at the edge of the machine". It covers
exactly the calls ``BigQueryAnalytics`` makes, with Google's JSON shapes:

  POST /bigquery/v2/projects/{p}/datasets/{d}/tables/events_raw/insertAll   rows with insertId, insertErrors
  POST /bigquery/v2/projects/{p}/queries                                     jobs.query (NAMED parameters)
  GET  /bigquery/v2/projects/{p}/queries/{jobId}?pageToken=                  getQueryResults, paged

SQL runs on DuckDB: the port's SQL is the common subset of both dialects, so the same text is valid on
both; the ``events`` view keeps the first row per event_id, as terraform/analytics.tf's view does.
Answers follow the REST encoding (every cell text, TIMESTAMP as epoch seconds, INTEGER as text), jobs
are first answered incomplete (``jobComplete: false``) when ``slow_jobs`` is set, and pages hold at most
``page_cap`` rows, so the adapter's polling and paging run in tests.
"""
from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import duckdb
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from studio.adapters.duckdb_analytics import to_duckdb_sql
from studio.ports.analytics import COLUMNS

_INSERT = re.compile(r"/bigquery/v2/projects/([^/]+)/datasets/([^/]+)/tables/([^/]+)/insertAll")
_QUERY = re.compile(r"/bigquery/v2/projects/([^/]+)/queries")
_RESULTS = re.compile(r"/bigquery/v2/projects/([^/]+)/queries/([^/]+)")
_DUCK_TO_BQ = {"VARCHAR": "STRING", "DOUBLE": "FLOAT", "FLOAT": "FLOAT", "BIGINT": "INTEGER", "INTEGER": "INTEGER",
               "HUGEINT": "INTEGER", "BOOLEAN": "BOOLEAN", "TIMESTAMP": "TIMESTAMP", "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
               "DATE": "DATE", "UBIGINT": "INTEGER", "SMALLINT": "INTEGER", "TINYINT": "INTEGER"}


class FakeBigQuery:
    def __init__(self, page_cap: int = 3, slow_jobs: bool = True) -> None:
        self.page_cap = page_cap
        self.slow_jobs = slow_jobs
        self.calls: list[str] = []
        self._lock = threading.Lock()
        self._db = duckdb.connect(":memory:")
        cols = ", ".join(f"{n} {t}" for n, t in COLUMNS.items())
        self._db.execute(f"CREATE TABLE events_raw ({cols}, _insert_seq BIGINT)")
        self._db.execute("CREATE VIEW events AS SELECT * EXCLUDE (_insert_seq, _rn) FROM ("
                         "SELECT *, ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY _insert_seq) AS _rn "
                         "FROM events_raw) WHERE _rn = 1")
        self._seq = 0
        self._jobs: dict[str, dict[str, Any]] = {}
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FakeBigQuery:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def raw_count(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT COUNT(*) FROM events_raw").fetchone()
        return int(row[0]) if row else 0

    # -- the API -------------------------------------------------------------------------
    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.calls.append(f"{request.method} {request.path}")
        try:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme != "Bearer" or not token.strip():
                raise _ApiError(401, "UNAUTHENTICATED", "Request is missing required authentication credential.")
            if request.method == "POST" and (m := _INSERT.fullmatch(request.path)):
                body = self._insert(m.group(3), request.get_json(force=True))
            elif request.method == "POST" and _QUERY.fullmatch(request.path):
                body = self._query(request.get_json(force=True))
            elif request.method == "GET" and (m := _RESULTS.fullmatch(request.path)):
                body = self._results(m.group(2), request.args.get("pageToken", ""))
            else:
                raise _ApiError(404, "NOT_FOUND", f"no such method: {request.method} {request.path}")
            response = Response(json.dumps(body), content_type="application/json")
        except _ApiError as exc:
            response = Response(json.dumps({"error": {"code": exc.code, "message": exc.message, "status": exc.status}}),
                                status=exc.code, content_type="application/json")
        return response(environ, start_response)

    def _insert(self, table: str, body: dict[str, Any]) -> dict[str, Any]:
        if table != "events_raw":
            raise _ApiError(404, "NOT_FOUND", f"Not found: Table {table}")
        errors = []
        accepted = []
        for index, row in enumerate(body.get("rows", [])):
            data = row.get("json", {})
            unknown = set(data) - set(COLUMNS)
            if unknown:
                errors.append({"index": index, "errors": [{"reason": "invalid", "message": f"no such field: {sorted(unknown)[0]}"}]})
                continue
            accepted.append(data)
        if errors:  # skipInvalidRows is false: nothing of the request is written
            return {"kind": "bigquery#tableDataInsertAllResponse", "insertErrors": errors}
        with self._lock:
            for data in accepted:
                self._seq += 1
                ts = data.get("ts")
                values = [(datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)
                           if n == "ts" and ts else data.get(n)) for n in COLUMNS]
                self._db.execute(f"INSERT INTO events_raw VALUES ({', '.join('?' for _ in range(len(COLUMNS) + 1))})",
                                 [*values, self._seq])
        return {"kind": "bigquery#tableDataInsertAllResponse"}

    def _query(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("useLegacySql") is not False or body.get("parameterMode") != "NAMED":
            raise _ApiError(400, "INVALID_ARGUMENT", "expected standard SQL with named parameters")
        params = {p["name"]: _param_value(p) for p in body.get("queryParameters", [])}
        text, used = to_duckdb_sql(body["query"])
        missing = used - set(params)
        if missing:
            raise _ApiError(400, "INVALID_ARGUMENT", f"Query parameter '{sorted(missing)[0]}' not found")
        with self._lock:
            try:
                result = self._db.execute(text, {k: params[k] for k in used})
            except duckdb.Error as exc:
                raise _ApiError(400, "INVALID_ARGUMENT", str(exc).splitlines()[0]) from None
            fields = [{"name": d[0], "type": _DUCK_TO_BQ.get(str(d[1]).upper(), "STRING"), "mode": "NULLABLE"}
                      for d in result.description]
            rows = [{"f": [{"v": _cell_text(v)} for v in row]} for row in result.fetchall()]
        job_id = "job_" + uuid.uuid4().hex
        self._jobs[job_id] = {"fields": fields, "rows": rows, "polls": 0}
        if self.slow_jobs:
            return {"kind": "bigquery#queryResponse", "jobComplete": False,
                    "jobReference": {"projectId": "p", "jobId": job_id, "location": "EU"}}
        return self._page(job_id, 0)

    def _results(self, job_id: str, token: str) -> dict[str, Any]:
        if job_id not in self._jobs:
            raise _ApiError(404, "NOT_FOUND", f"Not found: Job {job_id}")
        return self._page(job_id, int(token or 0))

    def _page(self, job_id: str, start: int) -> dict[str, Any]:
        job = self._jobs[job_id]
        rows = job["rows"][start:start + self.page_cap]
        answer: dict[str, Any] = {"kind": "bigquery#getQueryResultsResponse", "jobComplete": True,
                                  "jobReference": {"projectId": "p", "jobId": job_id, "location": "EU"},
                                  "schema": {"fields": job["fields"]}, "totalRows": str(len(job["rows"])),
                                  "rows": rows}
        if start + self.page_cap < len(job["rows"]):
            answer["pageToken"] = str(start + self.page_cap)
        return answer


class _ApiError(Exception):
    def __init__(self, code: int, status: str, message: str) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


def _param_value(param: dict[str, Any]) -> Any:
    kind = param["parameterType"]["type"]
    value = param.get("parameterValue", {})
    if kind == "ARRAY":
        inner = param["parameterType"]["arrayType"]["type"]
        return [_scalar(inner, v.get("value")) for v in value.get("arrayValues", [])]
    return _scalar(kind, value.get("value"))


def _scalar(kind: str, text: str | None) -> Any:
    if text is None:
        return None
    if kind == "INT64":
        return int(text)
    if kind == "FLOAT64":
        return float(text)
    if kind == "BOOL":
        return text == "true"
    if kind == "TIMESTAMP":
        return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)
    return text


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return f"{aware.timestamp():.16E}"  # BigQuery's exponent form (1.7012016E9), precise to the microsecond
    if isinstance(value, float):
        return repr(value)
    return str(value)
