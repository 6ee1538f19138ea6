"""An experiment's results, read from the analytics store (DuckDB locally, BigQuery deployed).

Users per variation are the distinct subjects with an exposure row; each subject's metric counts
the metric's events at or after its first exposure (``value`` summed, an event without a value
counting 1). A rate metric compares the share of subjects with at least one such event (two-proportion
z-test), a mean metric the per-subject sums (Welch's t-test); each variation against the first (the
control). A signal metric takes each exposed subject's current value of an analytics signal instead
(a number, or a boolean as 1/0; the first 20,000 subjects). Web vitals: the nearest-rank p75 of LCP, INP and CLS per variation, from ``web_vitals``
events of exposed subjects. The SQL is the subset DuckDB and BigQuery share (``JSON_VALUE``, window
functions, no casts); the subject column is chosen from two names, never from input.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from studio.experiments import stats
from studio.experiments.enrolment import subject_column
from studio.experiments.errors import ANALYTICS_UNAVAILABLE
from studio.experiments.signals import SignalReader
from studio.kernel import errors, logs
from studio.ports.store import Document

if TYPE_CHECKING:
    from studio.ports.analytics import AnalyticsStore

_log = logs.get("studio.experiments.results")
VITALS = ("LCP", "INP", "CLS")

_EXPOSED = """
exposed AS (
  SELECT {col} AS subject, JSON_VALUE(props, '$.variation') AS variation, MIN(ts) AS first_ts
  FROM events
  WHERE tenant_id = @tenant_id AND env = @env AND type = 'exposure' AND name = @experiment_key
    AND {col} IS NOT NULL
  GROUP BY 1, 2
)"""

METRIC_SQL = "WITH" + _EXPOSED + """,
per_subject AS (
  SELECT e.variation AS variation, e.subject AS subject, COUNT(m.event_id) AS n_events,
         COALESCE(SUM(COALESCE(m.value, 1)), 0) AS x
  FROM exposed e LEFT JOIN events m
    ON m.{col} = e.subject AND m.tenant_id = @tenant_id AND m.env = @env AND m.name = @metric
       AND m.type <> 'exposure' AND m.type <> 'web_vitals' AND m.ts >= e.first_ts
  GROUP BY 1, 2
)
SELECT variation, COUNT(*) AS users, SUM(x) AS total, SUM(x * x) AS total_sq,
       SUM(CASE WHEN n_events > 0 THEN 1 ELSE 0 END) AS converted
FROM per_subject
GROUP BY variation
"""

MAX_SIGNAL_SUBJECTS = 20_000  # a signal metric reads one document per exposed subject
SUBJECTS_SQL = "WITH" + _EXPOSED + f"""
SELECT variation, subject FROM exposed ORDER BY subject LIMIT {MAX_SIGNAL_SUBJECTS}
"""

VITALS_SQL = "WITH" + _EXPOSED + """,
vitals AS (
  SELECT e.variation AS variation, w.name AS metric, w.value AS value
  FROM exposed e JOIN events w
    ON w.{col} = e.subject AND w.tenant_id = @tenant_id AND w.env = @env AND w.type = 'web_vitals'
       AND w.name IN ('LCP', 'INP', 'CLS') AND w.value IS NOT NULL AND w.ts >= e.first_ts
),
ranked AS (
  SELECT variation, metric, value,
         ROW_NUMBER() OVER (PARTITION BY variation, metric ORDER BY value) AS rn,
         COUNT(*) OVER (PARTITION BY variation, metric) AS cnt
  FROM vitals
)
SELECT variation, metric, value AS p75, cnt FROM ranked
WHERE rn >= 0.75 * cnt AND rn < 0.75 * cnt + 1
"""


def results(analytics: AnalyticsStore, read_signals: SignalReader, tenant_id: str, env: str,
            doc: Document) -> dict[str, Any]:
    d = doc.data
    col = subject_column(d["hash_attribute"])
    metric = d["metric"]
    base = {"tenant_id": tenant_id, "env": env, "experiment_key": d["key"]}
    try:
        if metric is not None and metric.get("signal"):
            subjects = analytics.query(SUBJECTS_SQL.format(col=col), base)
            metric_rows = signal_rows(subjects, metric["signal"], lambda s: read_signals(tenant_id, env, s))
        else:
            metric_rows = analytics.query(METRIC_SQL.format(col=col),
                                          {**base, "metric": metric["event"] if metric else ""})
        vitals_rows = analytics.query(VITALS_SQL.format(col=col), base)
    except Exception as exc:  # the adapter's own error (DuckDB lock, BigQuery quota): a 503, logged
        _log.error("experiment results query failed", extra={"fields": {"experiment_id": doc.doc_id,
                                                                          "error": repr(exc)}})
        raise errors.StudioError(ANALYTICS_UNAVAILABLE, "the analytics store did not answer; retry") from exc
    return assemble(doc, metric_rows, vitals_rows)


def signal_rows(subjects: Sequence[Mapping[str, Any]], signal: str,
                read: Callable[[str], Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The metric query's shape (per variation: users, total, total_sq, converted) from each exposed
    subject's signal value: a number as it is, a boolean as 1 or 0, anything else (unset) as 0."""
    out: dict[str, dict[str, Any]] = {}
    for row in subjects:
        value = read(str(row["subject"])).get(signal)
        x = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float(value is True)
        agg = out.setdefault(str(row["variation"]), {"variation": row["variation"], "users": 0, "total": 0.0,
                                                     "total_sq": 0.0, "converted": 0})
        agg["users"] += 1
        agg["total"] += x
        agg["total_sq"] += x * x
        agg["converted"] += x != 0
    return list(out.values())


def assemble(doc: Document, metric_rows: Sequence[Mapping[str, Any]], vitals_rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The results document from the two queries' rows (pure: unit-tested on its own)."""
    d = doc.data
    variations = d["variations"]
    metric = d["metric"]
    by_index = {_index(r["variation"]): r for r in metric_rows}
    arms = []
    for i in range(len(variations)):
        row = by_index.get(i)
        users = int(row["users"]) if row else 0
        if metric and metric["kind"] == "rate":
            converted = int(row["converted"]) if row else 0
            arms.append(stats.Arm(users, float(converted), float(converted)))
        else:
            arms.append(stats.Arm(users, float(row["total"] or 0) if row else 0.0,
                                  float(row["total_sq"] or 0) if row else 0.0))
    vitals: dict[int, dict[str, Any]] = {}
    for r in vitals_rows:
        slot = vitals.setdefault(_index(r["variation"]), {"samples": 0})
        slot[str(r["metric"]).lower() + "_p75"] = float(r["p75"])
        slot["samples"] += int(r["cnt"])
    weights = [float(v["weight"]) for v in variations]
    srm_p, srm = stats.sample_ratio_mismatch([a.n for a in arms], weights)
    test = None if metric is None else ("two_proportion_z" if metric["kind"] == "rate" else "welch_t")
    out = []
    for i, (variation, arm) in enumerate(zip(variations, arms, strict=True)):
        comparison = None
        if metric is not None and i > 0:
            compare = stats.two_proportions if metric["kind"] == "rate" else stats.welch
            comparison = compare(arms[0], arm)
        row = by_index.get(i)
        v = vitals.get(i, {"samples": 0})
        out.append({
            "key": variation["key"], "users": arm.n, "expected_share": weights[i],
            "metric_value": None if metric is None or arm.n == 0 else arm.mean,
            "converted": int(row["converted"]) if row else 0,
            "uplift": comparison.uplift if comparison else None,
            "ci_low": comparison.ci_low if comparison else None,
            "ci_high": comparison.ci_high if comparison else None,
            "p_value": comparison.p_value if comparison else None,
            "vitals": {"lcp_p75": v.get("lcp_p75"), "inp_p75": v.get("inp_p75"), "cls_p75": v.get("cls_p75"),
                       "samples": v["samples"]},
        })
    return {"experiment_id": doc.doc_id, "key": d["key"], "status": d["status"], "metric": metric, "test": test,
            "users": sum(a.n for a in arms), "srm_p_value": srm_p, "srm": srm, "variations": out}


def _index(value: Any) -> int:
    """The variation index JSON_VALUE gives back (text in both engines: '0', '1' ...); -1 if unreadable."""
    try:
        return int(str(value).strip('"'))
    except ValueError:
        return -1
