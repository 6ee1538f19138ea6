"""Browser event ingest: key -> site, origin, per-key rate, bots, PII, then one bus message per event.

The request does no store write: it resolves the write key (cached a few seconds per instance),
checks, and publishes to ``analytics.events``; the writer function (``writer.py``) stores the rows and
updates the signals. So ingest stays fast, and a burst is absorbed by the bus, not by the store.

Each event's stored id is ``<site>:<client id>`` when the browser sends one (a sendBeacon retried
after a lost answer counts once: the table keeps the first row per id) or a fresh one.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from studio.analytics.bots import is_bot
from studio.analytics.errors import ORIGIN_NOT_ALLOWED, WRITE_KEY_INVALID
from studio.analytics.sites import SiteRef, SiteService
from studio.kernel import cors, errors, logs
from studio.kernel.ratelimit import RateLimiter
from studio.ports.analytics import TOPIC, encode_message, message_attributes
from studio.ports.bus import Bus
from studio.privacy.pii import scrub_value
from studio.privacy.policy_filter import PolicyFilter

KEY_CACHE_S = 5.0  # a revoked key stops working within this long on every instance
MAX_FUTURE = timedelta(minutes=5)  # a clock slightly ahead is tolerated, later times are clamped to now
MAX_PAST = timedelta(days=7)  # older timestamps (a device clock years off) are clamped too
_UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
_log = logs.get("studio.analytics.ingest")


class IngestService:
    def __init__(self, sites: SiteService, bus: Bus, policy: PolicyFilter | None = None) -> None:
        self._policy = policy  # the tenant's policy filter: a blocked entity refuses the batch (422)
        self._sites = sites
        self._bus = bus
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[float, SiteRef | None]] = {}
        self._limiters: dict[str, RateLimiter] = {}

    def site_for(self, key: str | None) -> SiteRef:
        if not key:
            raise errors.StudioError(WRITE_KEY_INVALID, "send the site's write key as ?key= (or write_key in a batch)")
        now = time.monotonic()
        cached = self._keys.get(key)
        if cached is None or now - cached[0] > KEY_CACHE_S:
            cached = (now, self._sites.resolve_key(key))
            with self._lock:
                if len(self._keys) > 10_000:  # unknown keys must not grow the cache without bound
                    self._keys.clear()
                self._keys[key] = cached
        if cached[1] is None:
            raise errors.StudioError(WRITE_KEY_INVALID)
        return cached[1]

    def origins_for(self, key: str | None) -> tuple[str, ...] | None:
        """The site's allow-list for a CORS preflight, or None when the key names no site."""
        try:
            return self.site_for(key).origins
        except errors.StudioError:
            return None

    def check_origin(self, site: SiteRef, origin: str | None) -> None:
        if not origin:
            if site.allow_no_origin:
                return
            raise errors.StudioError(ORIGIN_NOT_ALLOWED, "this site accepts events from its listed origins only")
        if not cors.policy(site.origins).allows(origin):
            raise errors.StudioError(ORIGIN_NOT_ALLOWED, f"{origin[:200]} is not on this site's allow-list")

    def check_rate(self, site: SiteRef) -> None:
        limiter = self._limiters.get(site.key_id)
        if limiter is None or round(limiter.rate * 60) != site.rate_limit_per_minute:
            limiter = RateLimiter(site.rate_limit_per_minute)
            with self._lock:
                self._limiters[site.key_id] = limiter
        limiter.check(site.key_id)

    def ingest(self, key: str | None, origin: str | None, user_agent: str | None,
               events: Sequence[Any]) -> dict[str, Any]:
        site = self.site_for(key)
        self.check_origin(site, origin)
        self.check_rate(site)
        if is_bot(user_agent):
            return {"accepted": 0, "event_ids": [], "dropped_bots": len(events)}
        if self._policy is not None:  # first, on what the browser sent; rows are scrubbed of PII anyway
            self._policy.check(site.tenant_id, site.env, [e.model_dump(mode="json") if hasattr(e, "model_dump") else e
                                                          for e in events], where="analytics event")
        received = datetime.now(UTC)
        rows = [to_row(site, event, received) for event in events]
        for row in rows:
            try:
                self._bus.publish(TOPIC, encode_message(row), message_attributes(row))
            except errors.StudioError:
                raise
            except Exception as exc:  # an adapter's own error: 503, the browser may resend (same ids)
                _log.error("analytics event not published", extra={"fields": {"error": repr(exc)}})
                raise errors.Unavailable("analytics events could not be queued; retry") from exc
        return {"accepted": len(rows), "event_ids": [r["event_id"] for r in rows], "dropped_bots": 0}


def _clamped(ts: datetime | None, received: datetime) -> datetime:
    if ts is None or ts > received + MAX_FUTURE or ts < received - MAX_PAST:
        return received
    return ts


def _utm_from_url(url: str) -> dict[str, str]:
    try:
        query = parse_qs(urlsplit(url).query, max_num_fields=50)
    except ValueError:
        return {}
    return {k: v[0][:200] for k in _UTM if (v := query.get(k)) and v[0]}


def to_row(site: SiteRef, event: Any, received: datetime) -> dict[str, Any]:
    """One validated browser event as an ``events`` row, PII scrubbed from every free-text field."""
    fields = event.model_dump(exclude={"type", "event_id", "ts", "props"})
    props: dict[str, Any] = dict(event.props)
    name: str | None = None
    value: float | None = None
    if event.type == "pageview":
        if fields.pop("title", None) is not None:
            props["title"] = event.title
    elif event.type == "cta_click":
        name = fields.pop("cta_id")
        target = fields.pop("target_url", None)
        if target is not None:
            props["target_url"] = target
    elif event.type == "web_vitals":
        name, value = fields.pop("metric"), float(fields.pop("value"))
        for extra in ("rating", "metric_id", "navigation_type"):
            if (v := fields.pop(extra, None)) is not None:
                props[extra] = v
        attribution = fields.pop("attribution", {})
        props.update({f"attribution.{k}": v for k, v in attribution.items()})
    else:
        name, value = fields.pop("name"), fields.pop("value", None)
    for utm, found in _utm_from_url(event.url).items():
        if fields.get(utm) is None:
            fields[utm] = found
    ids = {k: fields.pop(k) for k in ("anonymous_id", "user_id", "session_id")}  # ids: pattern-checked, kept
    scrubbed, _ = scrub_value({**fields, "props": props, "name": name})
    assert isinstance(scrubbed, dict)
    scrubbed.update(ids)
    event_id = f"{site.site_id}:{event.event_id}" if event.event_id else f"{site.site_id}:{uuid.uuid4().hex}"
    return {**scrubbed, "tenant_id": site.tenant_id, "env": site.env, "site_id": site.site_id,
            "event_id": event_id, "type": event.type, "ts": _clamped(event.ts, received), "value": value}
