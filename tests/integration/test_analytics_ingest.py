"""Browser ingest over real HTTP: write keys, origin allow-lists and CORS preflights, per-key rate limits,
bots, schema validation, sendBeacon bodies, PII scrubbing, and the rows the writer stores (DuckDB)."""
from __future__ import annotations

import json

import httpx
import pytest

from tests.support.analytics_site import BROWSER, ORIGIN, Site, new_site
from tests.support.platform import RunningPlatform

PAGEVIEW = {"anonymous_id": "anon-1", "session_id": "s1", "url": "https://shop.example/pricing?utm_source=news",
            "page_type": "pricing", "surface": "web", "referrer": "https://google.com/"}


@pytest.fixture()
def site(client: httpx.Client) -> Site:
    return new_site(client)


def _rows(platform: RunningPlatform, site: Site) -> list[dict]:
    platform.drain()
    return platform.deps.analytics.query(
        "SELECT * FROM events WHERE tenant_id = @t AND site_id = @s ORDER BY ts, event_id",
        {"t": site.tenant, "s": site.site_id})


def _problem(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code


def test_pageview_cta_and_web_vitals_reach_the_store(client: httpx.Client, platform: RunningPlatform,
                                                      site: Site) -> None:
    r = site.send(client, "events/pageview", {**PAGEVIEW, "event_id": "pv-1", "title": "Pricing"})
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 1, "event_ids": [f"{site.site_id}:pv-1"], "dropped_bots": 0}
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert site.send(client, "events/cta-click", {**PAGEVIEW, "cta_id": "buy", "target_url": "/checkout"}
                     ).status_code == 202
    vitals = {**PAGEVIEW, "metric": "LCP", "value": 1834.5, "rating": "good",
              "attribution": {"element": "img.hero", "timeToFirstByte": 120}}
    assert site.send(client, "events/web-vitals", vitals).status_code == 202
    rows = _rows(platform, site)
    assert [r["type"] for r in rows] == ["pageview", "cta_click", "web_vitals"]
    pv, cta, lcp = rows
    assert pv["utm_source"] == "news" and pv["page_type"] == "pricing" and json.loads(pv["props"]) == {"title": "Pricing"}
    assert (cta["name"], json.loads(cta["props"])["target_url"]) == ("buy", "/checkout")
    assert (lcp["name"], lcp["value"]) == ("LCP", 1834.5)
    assert json.loads(lcp["props"])["attribution.element"] == "img.hero"


def test_a_resent_event_id_is_stored_once(client: httpx.Client, platform: RunningPlatform, site: Site) -> None:
    for _ in range(3):
        assert site.send(client, "events/pageview", {**PAGEVIEW, "event_id": "same"}).status_code == 202
    assert len(_rows(platform, site)) == 1


def test_send_beacon_text_plain_batch_with_the_key_in_the_body(client: httpx.Client, platform: RunningPlatform,
                                                                site: Site) -> None:
    body = {"write_key": site.key, "events": [{**PAGEVIEW, "type": "pageview"},
                                              {**PAGEVIEW, "type": "custom", "name": "signup", "value": 1}]}
    r = client.post("/analytics/batch", content=json.dumps(body),
                    headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": ORIGIN, "User-Agent": BROWSER})
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 2
    assert sorted(row["type"] for row in _rows(platform, site)) == ["custom", "pageview"]  # one arrival time


def test_a_wrong_key_is_refused(client: httpx.Client, site: Site) -> None:
    _problem(site.send(client, "events/pageview", PAGEVIEW, key="wk_not-a-key"), 401, "WRITE_KEY_INVALID")
    _problem(client.post("/analytics/events/pageview", json=PAGEVIEW, headers={"Origin": ORIGIN}),
             401, "WRITE_KEY_INVALID")


def test_a_revoked_key_is_refused(client: httpx.Client, site: Site) -> None:
    assert site.send(client, "events/pageview", PAGEVIEW).status_code == 202
    revoked = client.delete(f"/sites/{site.site_id}/keys/{site.key_id}", headers=site.admin)
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    import time

    deadline = time.monotonic() + 10  # the per-instance key cache holds a key for a few seconds
    while (r := site.send(client, "events/pageview", PAGEVIEW)).status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.5)
    _problem(r, 401, "WRITE_KEY_INVALID")


def test_a_wrong_origin_is_refused(client: httpx.Client, site: Site) -> None:
    _problem(site.send(client, "events/pageview", PAGEVIEW, origin="https://evil.example"), 403, "ORIGIN_NOT_ALLOWED")
    _problem(site.send(client, "events/pageview", PAGEVIEW, origin=None), 403, "ORIGIN_NOT_ALLOWED")
    # Loopback is allowed by the platform's own policy, but not by this site's list.
    _problem(site.send(client, "events/pageview", PAGEVIEW, origin="http://localhost:5173"), 403, "ORIGIN_NOT_ALLOWED")


def test_a_server_side_site_may_send_without_origin(client: httpx.Client) -> None:
    server = new_site(client, allow_no_origin=True)
    assert server.send(client, "events/pageview", PAGEVIEW, origin=None).status_code == 202


@pytest.mark.parametrize("body", [
    {"url": "https://shop.example/"},  # no anonymous_id
    {**PAGEVIEW, "colour": "red"},  # unknown field
    {**PAGEVIEW, "anonymous_id": "ada@example.com"},  # an email is not an id
    {**PAGEVIEW, "url": "x" * 5000},
    {**PAGEVIEW, "ts": "yesterday"},
    {**PAGEVIEW, "props": {f"k{i}": i for i in range(40)}},
    {**PAGEVIEW, "props": {"nested": {"deep": 1}}},
])
def test_a_malformed_event_is_refused(client: httpx.Client, site: Site, body: dict) -> None:
    _problem(site.send(client, "events/pageview", body), 400, "VALIDATION_FAILED")


def test_malformed_web_vitals_and_batches_are_refused(client: httpx.Client, site: Site) -> None:
    _problem(site.send(client, "events/web-vitals", {**PAGEVIEW, "metric": "FID", "value": 3}), 400, "VALIDATION_FAILED")
    _problem(site.send(client, "events/web-vitals", {**PAGEVIEW, "metric": "CLS", "value": -1}), 400,
             "VALIDATION_FAILED")
    r = client.post("/analytics/events/web-vitals", params={"key": site.key},
                    content=b'{"anonymous_id":"a","url":"/","metric":"LCP","value":NaN}',
                    headers={"Content-Type": "application/json", "Origin": ORIGIN, "User-Agent": BROWSER})
    _problem(r, 400, "INVALID_JSON")
    _problem(site.send(client, "batch", {"events": []}), 400, "VALIDATION_FAILED")
    _problem(site.send(client, "batch", {"events": [{**PAGEVIEW, "type": "pageview"}] * 101}), 400, "VALIDATION_FAILED")
    _problem(site.send(client, "batch", {"events": [{**PAGEVIEW, "type": "purchase"}]}), 400, "VALIDATION_FAILED")
    r = client.post("/analytics/events/pageview", params={"key": site.key}, content=json.dumps(PAGEVIEW),
                    headers={"Content-Type": "text/plain", "Origin": ORIGIN, "User-Agent": BROWSER})
    _problem(r, 415, "UNSUPPORTED_MEDIA_TYPE")  # only the batch takes sendBeacon's text/plain


def test_bots_are_counted_and_not_stored(client: httpx.Client, platform: RunningPlatform, site: Site) -> None:
    for agent in ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "curl/8.5.0", ""):
        r = site.send(client, "events/pageview", PAGEVIEW, user_agent=agent)
        assert r.status_code == 202 and r.json() == {"accepted": 0, "event_ids": [], "dropped_bots": 1}
    assert _rows(platform, site) == []


def test_pii_is_scrubbed_before_it_is_queued(client: httpx.Client, platform: RunningPlatform, site: Site) -> None:
    body = {**PAGEVIEW, "url": "https://shop.example/thanks?email=ada@example.com", "props": {"note": "call +49 30 1234567"}}
    assert site.send(client, "events/pageview", body).status_code == 202
    (row,) = _rows(platform, site)
    assert "ada@example.com" not in row["url"] and "1234567" not in row["props"]


def test_the_tenant_policy_filter_runs_first_and_blocks(client: httpx.Client, platform: RunningPlatform,
                                                          site: Site) -> None:
    assert client.put("/privacy/policy", json={"actions": {"EMAIL": "block"}, "base_rev": 0},
                      headers=site.admin).is_success
    body = {**PAGEVIEW, "url": "https://shop.example/thanks?email=ada@example.com"}
    _problem(site.send(client, "events/pageview", body), 422, "POLICY_BLOCKED")
    assert site.send(client, "events/pageview", PAGEVIEW).status_code == 202  # nothing blocked: accepted
    assert [r["url"] for r in _rows(platform, site)] == [PAGEVIEW["url"]]  # the blocked one was never queued


def test_the_per_key_rate_limit(client: httpx.Client) -> None:
    slow = new_site(client, rate_limit_per_minute=6)  # a burst of 1, then one a minute per key
    codes = [slow.send(client, "events/pageview", PAGEVIEW).status_code for _ in range(3)]
    assert codes[0] == 202 and 429 in codes
    limited = slow.send(client, "events/pageview", PAGEVIEW)
    _problem(limited, 429, "RATE_LIMITED")
    assert int(limited.headers["Retry-After"]) >= 1


def test_the_site_origin_passes_the_cors_preflight_and_others_do_not(client: httpx.Client, site: Site) -> None:
    def preflight(origin: str) -> httpx.Response:
        return client.options("/analytics/events/pageview", params={"key": site.key}, headers={
            "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})

    ok = preflight(ORIGIN)
    assert ok.status_code == 204, ok.text
    assert ok.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "content-type" in ok.headers["Access-Control-Allow-Headers"].lower()
    for other in ("https://evil.example", "http://localhost:5173"):  # loopback: allowed by the platform, not the site
        refused = preflight(other)
        _problem(refused, 403, "CORS_PREFLIGHT_REFUSED")
        assert "Access-Control-Allow-Origin" not in refused.headers


def test_sites_and_keys_need_an_admin_and_stay_in_their_tenant(client: httpx.Client, site: Site) -> None:
    other = new_site(client)
    _problem(client.get(f"/sites/{site.site_id}", headers=other.admin), 404, "NOT_FOUND")
    _problem(client.delete(f"/sites/{site.site_id}/keys/{site.key_id}", headers=other.admin), 404, "NOT_FOUND")
    keys = client.get(f"/sites/{site.site_id}/keys", headers=site.admin).json()["keys"]
    assert [k["key"] for k in keys] == [None] and site.key.startswith(keys[0]["prefix"])
    _problem(client.post("/sites", json={"name": "x", "origins": ["*"]}, headers=site.admin), 400, "VALIDATION_FAILED")
    _problem(client.post("/sites", json={"name": "x", "origins": ["not an origin"]}, headers=site.admin), 400,
             "VALIDATION_FAILED")


def test_hostile_bodies_and_numbers(client: httpx.Client, site: Site) -> None:
    huge = {"events": [{**PAGEVIEW, "type": "pageview", "url": "https://shop.example/" + "x" * 2000}] * 600}
    _problem(site.send(client, "batch", huge), 413, "PAYLOAD_TOO_LARGE")
    deep: object = 1
    for _ in range(200):
        deep = {"a": deep}
    _problem(site.send(client, "events/pageview", {**PAGEVIEW, "props": deep}), 400, "JSON_TOO_DEEP")
    _problem(site.send(client, "events/web-vitals", {**PAGEVIEW, "metric": "LCP", "value": 10**30}), 400,
             "VALIDATION_FAILED")
    _problem(client.patch(f"/sites/{site.site_id}", json={"rate_limit_per_minute": 2**70, "base_rev": 1},
                          headers=site.admin), 400, "VALIDATION_FAILED")
    _problem(client.patch(f"/sites/{site.site_id}", json={"rate_limit_per_minute": True, "base_rev": 1},
                          headers=site.admin), 400, "VALIDATION_FAILED")
