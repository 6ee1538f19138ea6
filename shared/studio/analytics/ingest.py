"""Browser event ingest: key -> site, origin, per-key rate, bots, PII, then one bus message per event.

The kernel admits the write key (an ``analytics.ingest`` site key: kernel/site_keys.py) with the site's
origin allow-list and rate limit, which the ingest routes' rule reads through ``site_of``. The request
does no store write: it checks and publishes to ``analytics.events``; the writer function (``writer.py``) stores the rows and
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
from studio.analytics.errors import WRITE_KEY_INVALID
from studio.analytics.sites import SiteRef, SiteService
from studio.kernel import errors, logs
from studio.kernel.site_keys import SiteKeyGrant
from studio.ports.analytics import TOPIC, encode_message, message_attributes
from studio.ports.bus import Bus
from studio.privacy.pii import scrub_value
from studio.privacy.policy_filter import PolicyFilter

SITE_CACHE_S = 5.0  # an edited allow-list or limit applies within this long on every instance
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
        # by (tenant, env, key id): a key id is random, not unique across tenants, so never alone
        self._site_cache: dict[tuple[str, str, str], tuple[float, SiteRef | None]] = {}

    def site_of(self, grant: SiteKeyGrant) -> SiteRef:
        """The site a write key (resolved by the kernel) sends for, its allow-list and limit read a few
        seconds at most ago; WRITE_KEY_INVALID once the site is gone."""
        now = time.monotonic()
        cache_key = (grant.tenant_id, grant.env, grant.key_id)
        cached = self._site_cache.get(cache_key)
        if cached is None or now - cached[0] > SITE_CACHE_S:
            cached = (now, self._sites.site_ref(grant))
            with self._lock:
                if len(self._site_cache) > 10_000:
                    self._site_cache.clear()
                self._site_cache[cache_key] = cached
        if cached[1] is None:
            raise errors.StudioError(WRITE_KEY_INVALID, "this key's site is gone")
        return cached[1]

    def ingest(self, grant: SiteKeyGrant, user_agent: str | None, events: Sequence[Any]) -> dict[str, Any]:
        """Events of a key the kernel admitted (scope, revocation, origin and rate checked there)."""
        site = self.site_of(grant)
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
