"""Field Core Web Vitals from real analytics ingest (browser events -> bus -> writer -> DuckDB): p75 per route
and per experiment variation, judged against LCP 2.5 s, INP 200 ms and CLS 0.1, and attached to an audit."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.test_audits_api import audit
from tests.support.page_server import page_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pages() -> Iterator[str]:
    with page_server() as base:
        yield base


def _vital(client, key: str, origin: str, url: str, metric: str, value: float, **props: str) -> None:  # noqa: ANN001
    r = client.post("/analytics/events/web-vitals", params={"key": key},
                    headers={"Origin": origin, "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130"},
                    json={"anonymous_id": "visitor1", "url": url, "metric": metric, "value": value, "props": props})
    assert r.status_code == 202, r.text


def test_p75_per_route_and_variation_and_on_the_audit(client, platform, owner, tenant, pages) -> None:  # noqa: ANN001
    h = owner.in_tenant(tenant)
    site = client.post("/sites", json={"name": "Shop", "origins": [pages]}, headers=h)
    assert site.status_code == 201, site.text
    site_id = site.json()["id"]
    key = client.post(f"/sites/{site_id}/keys", headers=h).json()["key"]
    for i, lcp in enumerate([1000, 1500, 2000, 2400, 4000, 5000, 6000, 7000]):  # p75 = 5000 ms: poor
        variation = "b" if i % 2 else "a"
        _vital(client, key, pages, f"{pages}/heavy.html", "LCP", lcp, experiment="hero", variation=variation)
    for inp in (80, 90, 100, 150):  # p75 = 100 ms: good
        _vital(client, key, pages, f"{pages}/heavy.html", "INP", inp)
    for cls in (0.01, 0.02, 0.3, 0.4):  # p75 = 0.3: poor
        _vital(client, key, pages, f"{pages}/clean.html", "CLS", cls)
    platform.drain()  # the analytics writer stores the rows

    r = client.get("/audits/field-vitals", params={"site_id": site_id}, headers=h)
    assert r.status_code == 200, r.text
    routes = {row["route"]: row for row in r.json()["routes"]}
    heavy, clean = routes["/heavy.html"], routes["/clean.html"]
    assert heavy["LCP"] == {"p75": 5000, "samples": 8, "threshold": 2500, "good": False}
    assert heavy["INP"] == {"p75": 100, "samples": 4, "threshold": 200, "good": True}
    assert clean["CLS"]["p75"] == 0.3 and clean["CLS"]["good"] is False and "LCP" not in clean
    variations = {(v["experiment"], v["variation"]): v for v in r.json()["variations"]}
    assert variations[("hero", "a")]["LCP"]["p75"] == 4000  # 1000, 2000, 4000, 6000
    assert variations[("hero", "b")]["LCP"]["p75"] == 5000  # 1500, 2400, 5000, 7000

    result = audit(client, platform, owner, tenant, url=pages + "/heavy.html", kinds=["performance"], site_id=site_id)
    field = result["performance"]["field"]
    assert [row["route"] for row in field["routes"]] == ["/heavy.html"]
    assert field["routes"][0]["LCP"]["p75"] == 5000

    other = client.get("/audits/field-vitals", params={"site_id": "st_none"}, headers=h).json()
    assert other["routes"] == [] and other["samples"] == 0
