"""Signals, personalisation, journeys and SEO pages over real HTTP: events in through ingest, the writer
(the analytics_writer function on the local bus) keeps signals, the journeys read the DuckDB store."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.support.analytics_site import new_site
from tests.support.api import add_member, new_user
from tests.support.platform import RunningPlatform


def _pv(anon: str, url: str, session: str = "s1", **extra: object) -> dict:
    return {"type": "pageview", "anonymous_id": anon, "session_id": session, "url": url, **extra}


def test_signals_are_kept_on_ingest_and_drive_personalisation(client: httpx.Client, platform: RunningPlatform) -> None:
    site = new_site(client)
    h = site.admin
    specs = [
        {"name": "views", "type": "number", "aggregation": "count", "source": {"event_type": "pageview"}, "window": "7d"},
        {"name": "saw_pricing", "type": "bool", "aggregation": "exists",
         "source": {"event_type": "pageview", "where": {"page_type": "pricing"}}},
        {"name": "clicks_session", "type": "number", "aggregation": "count", "window": "session",
         "source": {"event_type": "cta_click", "name": "buy"}},
        {"name": "last_page", "type": "string", "aggregation": "last", "field": "url",
         "source": {"event_type": "pageview"}},
        {"name": "avg_lcp", "type": "number", "aggregation": "avg", "field": "value",
         "source": {"event_type": "web_vitals", "name": "LCP"}},
    ]
    for spec in specs:
        r = client.post("/signals", json=spec, headers=h)
        assert r.status_code == 201, r.text
    events = [_pv("v1", "https://shop.example/"), _pv("v1", "https://shop.example/pricing", page_type="pricing"),
              {"type": "cta_click", "anonymous_id": "v1", "session_id": "s1", "url": "https://shop.example/pricing",
               "cta_id": "buy"},
              {"type": "web_vitals", "anonymous_id": "v1", "url": "https://shop.example/", "metric": "LCP", "value": 1000},
              {"type": "web_vitals", "anonymous_id": "v1", "url": "https://shop.example/", "metric": "LCP", "value": 3000},
              _pv("v2", "https://shop.example/blog")]
    for i, event in enumerate(events):  # in order: "last" is by time, and each batch is stamped on arrival
        assert site.send(client, "batch", {"events": [{**event, "event_id": f"e{i}"}]}).status_code == 202
    assert site.send(client, "batch", {"events": [{**events[0], "event_id": "e0"}]}).status_code == 202  # resent
    platform.drain()

    v1 = client.get("/signals/subjects/v1", headers=h)
    assert v1.status_code == 200, v1.text
    assert v1.json()["values"] == {"views": 2, "saw_pricing": True, "clicks_session": 1,
                                   "last_page": "https://shop.example/pricing", "avg_lcp": 2000.0}
    v2 = client.get("/signals/subjects/v2", headers=h).json()["values"]
    assert v2 == {"views": 1, "saw_pricing": False, "clicks_session": 0, "last_page": "https://shop.example/blog",
                  "avg_lcp": None}
    nobody = client.get("/signals/subjects/nobody", headers=h).json()
    assert nobody["values"]["views"] == 0 and nobody["updated_at"] is None

    rules = [{"slot": "hero", "segment": {"signals.saw_pricing": True, "signals.views": {"$gte": 2}},
              "variant": "discount", "priority": 1},
             {"slot": "hero", "segment": {"attributes.country": {"$in": ["DE", "AT"]}}, "variant": "german",
              "priority": 5},
             {"slot": "banner", "segment": {}, "variant": "default"}]
    for rule in rules:
        assert client.post("/personalization/rules", json=rule, headers=h).status_code == 201
    answer = client.post("/personalization/resolve", json={"subject": "v1", "slots": ["hero", "banner", "footer"]},
                         headers=h)
    assert answer.status_code == 200, answer.text
    slots = answer.json()["slots"]
    assert slots["hero"]["variant"] == "discount" and slots["banner"]["variant"] == "default"
    assert slots["footer"] == {"variant": None, "rule_id": None}
    german = client.post("/personalization/resolve", json={"subject": "v2", "attributes": {"country": "AT"},
                                                           "slots": ["hero"]}, headers=h).json()["slots"]
    assert german["hero"]["variant"] == "german"


def test_signal_and_rule_validation(client: httpx.Client) -> None:
    h = new_site(client).admin
    bad = [
        ({"name": "x", "type": "string", "aggregation": "count", "source": {"event_type": "pageview"}}, "SIGNAL_INVALID"),
        ({"name": "x", "type": "number", "aggregation": "sum", "field": "url", "source": {"event_type": "pageview"}},
         "SIGNAL_INVALID"),
        ({"name": "x", "type": "number", "aggregation": "count", "window": "7w", "source": {"event_type": "pageview"}},
         "VALIDATION_FAILED"),
        ({"name": "Bad Name", "type": "number", "aggregation": "count", "source": {"event_type": "pageview"}},
         "VALIDATION_FAILED"),
    ]
    for body, code in bad:
        r = client.post("/signals", json=body, headers=h)
        assert r.json()["code"] == code, (body, r.text)
    ok = {"name": "x", "type": "number", "aggregation": "count", "source": {"event_type": "pageview"}}
    assert client.post("/signals", json=ok, headers=h).status_code == 201
    assert client.post("/signals", json=ok, headers=h).json()["code"] == "SIGNAL_NAME_TAKEN"
    r = client.post("/personalization/rules", json={"slot": "s", "segment": {"signals.x": {"$where": 1}}, "variant": "v"},
                    headers=h)
    assert r.status_code == 422 and r.json()["code"] == "SEGMENT_INVALID"


def test_viewers_read_but_do_not_define(client: httpx.Client) -> None:
    site = new_site(client)
    viewer = new_user(client, "viewer")
    add_member(client, site.owner, site.tenant, viewer, "viewer")
    vh = viewer.in_tenant(site.tenant)
    assert client.get("/signals", headers=vh).status_code == 200
    assert client.get("/sites", headers=vh).status_code == 200
    for method, url, body in (("POST", "/signals", {"name": "x", "type": "number", "aggregation": "count",
                                                   "source": {"event_type": "pageview"}}),
                              ("POST", "/sites", {"name": "x"}), ("POST", f"/sites/{site.site_id}/keys", None),
                              ("GET", f"/sites/{site.site_id}/keys", None)):
        r = client.request(method, url, json=body, headers=vh)
        assert r.status_code == 403 and r.json()["code"] == "ROLE_INSUFFICIENT", (url, r.text)


def test_funnel_and_paths_over_http(client: httpx.Client, platform: RunningPlatform) -> None:
    site = new_site(client)
    journeys = {"u1": ["/", "/pricing", "/signup"], "u2": ["/", "/pricing"], "u3": ["/", "/blog"],
                "u4": ["/pricing", "/signup"]}
    start = datetime.now(UTC) - timedelta(hours=1)  # ingest keeps times of the last 7 days as sent
    batch = [_pv(anon, f"https://shop.example{page}", ts=(start + timedelta(seconds=i)).isoformat(),
                 utm_source="ads" if anon < "u3" else None)
             for anon, pages in journeys.items() for i, page in enumerate(pages)]
    assert site.send(client, "batch", {"events": batch}).status_code == 202
    platform.drain()
    steps = [{"url": f"https://shop.example{p}"} for p in ("/", "/pricing", "/signup")]
    r = client.post("/journeys/funnels", json={"steps": steps, "window": "1h", "group_by": "utm_source",
                                               "since": (start - timedelta(minutes=1)).isoformat()}, headers=site.admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [s["users"] for s in body["steps"]] == [3, 2, 1]
    assert [s["drop_off"] for s in body["steps"]] == [0, 1, 1]
    assert body["median_seconds_to_convert"] == 2.0
    assert {g["group"]: [s["users"] for s in g["steps"]] for g in body["groups"]} == {"ads": [2, 2, 1], None: [1, 0, 0]}
    paths = client.get("/journeys/paths", params={"from": "https://shop.example/pricing"},
                       headers=site.admin)
    assert paths.status_code == 200, paths.text
    p = paths.json()
    assert p["next"] == [{"url": "https://shop.example/signup", "count": 2}]
    assert p["previous"] == [{"url": "https://shop.example/", "count": 2}]
    assert (p["views"], p["exits"], p["entries"]) == (3, 1, 1)
    assert {link["value"] for link in p["sankey"]["links"]} == {2}
    other = new_site(client)  # another tenant sees nothing of these events
    empty = client.post("/journeys/funnels", json={"steps": steps}, headers=other.admin).json()
    assert [s["users"] for s in empty["steps"]] == [0, 0, 0]
    bad = client.post("/journeys/funnels", json={"steps": steps[:1]}, headers=site.admin)
    assert bad.status_code == 400 and bad.json()["code"] == "VALIDATION_FAILED"


def test_seo_pages_and_the_site_graph(client: httpx.Client) -> None:
    h = new_site(client).admin
    pages = {("web", "home"): {"path": "/", "entry": True, "links": ["/pricing"]},
             ("web", "pricing"): {"path": "/pricing", "ctas": [{"id": "buy", "target": "/checkout"}]},
             ("web", "legacy"): {"path": "/legacy", "links": ["/"]}}
    for (surface, page_type), config in pages.items():
        r = client.put(f"/seo/pages/{surface}/{page_type}", json={**config, "base_rev": 0}, headers=h)
        assert r.status_code == 200 and r.json()["rev"] == 1, r.text
    again = client.put("/seo/pages", json={"surface": "web", "page_type": "home", "path": "/", "base_rev": 0}, headers=h)
    assert again.status_code == 409 and again.json()["code"] == "REVISION_CONFLICT"
    listed = client.get("/seo/pages", params={"surface": "web"}, headers=h).json()["pages"]
    assert [p["page_type"] for p in listed] == ["home", "legacy", "pricing"]
    one = client.get("/seo/pages/web/pricing", headers=h)
    assert one.status_code == 200 and one.headers["ETag"] == '"1"'
    assert client.get("/seo/pages/web/nope", headers=h).status_code == 404
    assert client.get("/seo/pages/web/bad~name", headers=h).status_code == 404
    graph = client.get("/journeys/site-graph", params={"max_clicks": 1}, headers=h)
    assert graph.status_code == 200, graph.text
    g = graph.json()
    assert g["orphans"] == ["/legacy"] and g["unreachable"] == ["/legacy"]
    assert g["dead_ends"] == ["/pricing"]
    assert g["broken_ctas"] == [{"page": "/pricing", "cta_id": "buy", "target": "/checkout"}]
