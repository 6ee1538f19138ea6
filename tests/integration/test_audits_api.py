"""Audits over real HTTP: the job API, the worker in Debian's Chromium (delivered by the runtime's bus),
fixture pages with known findings, budgets, SSRF refusals and progress on the meta channel."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.api import User, add_member, new_tenant, new_user
from tests.support.bus_tap import EventTap
from tests.support.page_server import page_server
from tests.support.platform import RunningPlatform

pytestmark = pytest.mark.slow
ALL_BPS = [320, 375, 414, 768, 1024, 1280, 1440, 1920]


@pytest.fixture(scope="module")
def pages() -> Iterator[str]:
    with page_server() as base:
        yield base


def audit(client: httpx.Client, platform: RunningPlatform, user: User, tenant: str, **body: Any) -> dict[str, Any]:
    body.setdefault("device", "desktop")
    r = client.post("/audits", json=body, headers=user.in_tenant(tenant))
    assert r.status_code == 202, r.text
    assert r.headers["Location"] == f"/audits/{r.json()['id']}"
    assert r.json()["status"] == "queued"
    platform.drain()  # the runtime's bus delivers audits.jobs to the audit worker
    got = client.get(f"/audits/{r.json()['id']}", headers=user.in_tenant(tenant))
    assert got.status_code == 200, got.text
    return dict(got.json())


def rules(result: dict[str, Any], kind: str) -> set[str]:
    return {r["rule"] for r in result["accessibility"][kind]}


def checks(result: dict[str, Any]) -> set[str]:
    return {f["check"] for f in result["layout"]["findings"]}


def test_clean_page_has_zero_findings(client, platform, owner, tenant, pages) -> None:  # noqa: ANN001
    result = audit(client, platform, owner, tenant, url=pages + "/clean.html", breakpoints=ALL_BPS,
                   kinds=["accessibility", "layout"])
    assert result["status"] == "done", result
    assert result["accessibility"]["violations"] == []
    assert result["accessibility"]["incomplete"] == []
    assert result["layout"]["findings"] == []
    assert result["accessibility"]["passes"]  # it did test something
    assert result["summary"]["violations"] == 0 and result["summary"]["layout_findings"] == 0


@pytest.mark.parametrize(("page", "rule", "sc", "clause"), [
    ("image-alt.html", "image-alt", "1.1.1", "9.1.1.1"),
    ("contrast.html", "color-contrast", "1.4.3", "9.1.4.3"),
])
def test_accessibility_violations_carry_wcag_and_en301549(client, platform, owner, tenant, pages,  # noqa: ANN001
                                                           page: str, rule: str, sc: str, clause: str) -> None:
    result = audit(client, platform, owner, tenant, url=f"{pages}/{page}", kinds=["accessibility"])
    found = {r["rule"]: r for r in result["accessibility"]["violations"]}
    assert set(found) == {rule}
    assert sc in found[rule]["sc"]
    assert clause in [c["clause"] for c in found[rule]["clauses"]]
    node = found[rule]["nodes"][0]
    assert node["selector"] and node["snippet"].startswith("<") and node["failure_summary"]
    assert found[rule]["impact"] in ("minor", "moderate", "serious", "critical")


def test_incomplete_items_become_the_manual_checklist(client, platform, owner, tenant, pages) -> None:  # noqa: ANN001
    result = audit(client, platform, owner, tenant, url=pages + "/incomplete.html", kinds=["accessibility"])
    assert "color-contrast" in rules(result, "incomplete")
    manual = {m["rule"]: m for m in result["accessibility"]["manual_checklist"]}
    assert manual["color-contrast"]["key"] == "axe:color-contrast"
    assert "1.4.3" in manual["color-contrast"]["sc"]


@pytest.mark.parametrize(("page", "check", "node"), [
    ("overflow.html", "horizontal_overflow", "#wide-banner"),
    ("overflow.html", "reflow", "#wide-banner"),
    ("small-targets.html", "target_size", "#prev"),
    ("overlap.html", "overlap", "#buy"),
    ("clipped.html", "clipped_text", "#card"),
    ("disappears.html", "disappears", "#promo"),
])
def test_layout_findings_name_the_elements(client, platform, owner, tenant, pages,  # noqa: ANN001
                                           page: str, check: str, node: str) -> None:
    result = audit(client, platform, owner, tenant, url=f"{pages}/{page}", kinds=["layout"], breakpoints=ALL_BPS)
    hits = [f for f in result["layout"]["findings"] if f["check"] == check]
    assert hits, result["layout"]["findings"]
    assert any(node in f["nodes"] for f in hits)
    if check == "reflow":
        assert hits[0]["breakpoint"] == 320 and hits[0]["sc"] == "1.4.10"
    if check == "horizontal_overflow":
        assert {f["breakpoint"] for f in hits} == {320, 375, 414}  # not at 768 and wider
    if check == "disappears":
        assert hits[0]["breakpoints"] == [320, 375, 414]


def test_budget_over_and_under_measured_in_chromium(client, platform, owner, tenant, pages) -> None:  # noqa: ANN001
    budget = [
        {"resourceSizes": [{"resourceType": "total", "budget": 10_000}]},  # every page: generous
        {"path": "/heavy*", "resourceSizes": [{"resourceType": "script", "budget": 100},
                                              {"resourceType": "document", "budget": 50}],
         "resourceCounts": [{"resourceType": "script", "budget": 5}],
         "timings": [{"metric": "first-contentful-paint", "budget": 30_000},
                     {"metric": "cumulative-layout-shift", "budget": 0.1}]},
    ]
    result = audit(client, platform, owner, tenant, url=pages + "/heavy.html", kinds=["performance"], budget=budget)
    perf = result["performance"]
    lab = perf["lab"]
    assert lab["bytes_by_type"]["script"] > 200 * 1024  # the generated 229 KB script
    assert lab["requests_by_type"]["script"] == 1
    assert lab["fcp_ms"] is not None and lab["ttfb_ms"] is not None and lab["lcp_ms"] is not None
    assert lab["cls"] >= 0 and lab["tbt_ms"] >= 0
    assert lab["profile"]["name"] == "desktop" and lab["profile"]["latency_ms"] == 40
    assert perf["budget_path"] == "/heavy*"  # the last matching budget wins, as in Lighthouse
    lines = {(line["section"], line["what"]): line for line in perf["budget"]}
    assert lines[("resourceSizes", "script")]["over"] is True
    assert lines[("resourceSizes", "script")]["measured"] > 200
    assert lines[("resourceSizes", "document")]["over"] is False
    assert lines[("resourceCounts", "script")]["over"] is False
    assert lines[("timings", "first-contentful-paint")]["over"] is False
    assert perf["over_budget"] == 1

    clean = audit(client, platform, owner, tenant, url=pages + "/clean.html", kinds=["performance"], budget=budget)
    assert clean["performance"]["budget_path"] is None  # the first budget has no path: it matched
    assert clean["performance"]["over_budget"] == 0


def test_submitted_html_is_audited(client, platform, owner, tenant) -> None:  # noqa: ANN001
    html = ('<!doctype html><html><head><title>x</title></head><body>'
            '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></body></html>')
    result = audit(client, platform, owner, tenant, html=html, kinds=["accessibility"])
    assert result["status"] == "done"
    assert {"image-alt", "html-has-lang"} <= rules(result, "violations")
    assert result["target"] == "submitted HTML"


@pytest.mark.parametrize("url", [
    "http://10.0.0.7/",  # private
    "http://169.254.169.254/computeMetadata/v1/",  # the metadata server
    "http://[::1]:8080/",  # loopback not on the allow-list
    "http://127.0.0.2/",  # loopback, outside the allowed 127.0.0.1/32
    "http://192.168.1.1/",
    "http://2130706434/",  # 127.0.0.2 spelled as a number
])
def test_ssrf_targets_are_refused_before_any_job(client, owner, tenant, url: str) -> None:  # noqa: ANN001
    r = client.post("/audits", json={"url": url}, headers=owner.in_tenant(tenant))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "AUDIT_URL_REFUSED"
    assert client.get("/audits", headers=owner.in_tenant(tenant)).json()["audits"] == []


def test_redirect_to_metadata_is_refused_in_the_browser(client, platform, owner, tenant, pages) -> None:  # noqa: ANN001
    target = pages + "/redirect?to=http://169.254.169.254/computeMetadata/v1/"
    result = audit(client, platform, owner, tenant, url=target, kinds=["accessibility"])
    assert result["status"] == "failed"
    assert result["refused_urls"] == ["http://169.254.169.254/computeMetadata/v1/"]
    assert "refused" in result["error"]


def test_subresource_to_a_private_address_is_refused(client, platform, owner, tenant, pages) -> None:  # noqa: ANN001
    html = (f'<!doctype html><html lang="en"><head><title>t</title></head><body><main><h1>x</h1>'
            f'<img alt="a" src="http://10.1.2.3/pixel.png"><img alt="b" src="{pages}/redirect?to=http://127.0.0.9/x.png">'
            f'</main></body></html>')
    result = audit(client, platform, owner, tenant, html=html, kinds=["accessibility"])
    assert result["status"] == "done"
    assert set(result["refused_urls"]) == {"http://10.1.2.3/pixel.png", "http://127.0.0.9/x.png"}


def test_progress_and_result_on_the_meta_channel(client, platform, owner, tenant, pages) -> None:  # noqa: ANN001
    tap = EventTap(platform, "realtime.meta")
    result = audit(client, platform, owner, tenant, url=pages + "/clean.html", kinds=["layout"], breakpoints=[320, 1280])
    events = [e for e in tap.events(tenant) if e["data"].get("audit_id") == result["id"]]
    kinds = [e["type"] for e in events]
    assert "audit.progress" in kinds and kinds[-1] == "audit.result"
    stages = [e["data"]["stage"] for e in events if e["type"] == "audit.progress"]
    assert stages[0] == "loading" and "layout 320px" in stages and "layout 1280px" in stages
    assert events[-1]["data"]["status"] == "done"


def test_history_per_site_screenshots_and_tenant_isolation(client, platform, owner, tenant, pages) -> None:  # noqa: ANN001
    first = audit(client, platform, owner, tenant, url=pages + "/clean.html", kinds=["layout"], breakpoints=[320],
                  site_id="shop")
    audit(client, platform, owner, tenant, url=pages + "/clean.html", kinds=["layout"], breakpoints=[320],
          site_id="blog")
    listed = client.get("/audits", params={"site_id": "shop"}, headers=owner.in_tenant(tenant)).json()["audits"]
    assert [a["id"] for a in listed] == [first["id"]]
    shot = client.get(f"/audits/{first['id']}/screenshots/320", headers=owner.in_tenant(tenant))
    assert shot.status_code == 200 and shot.json()["data_url"].startswith("data:image/jpeg;base64,/9j/")
    assert client.get(f"/audits/{first['id']}/screenshots/999", headers=owner.in_tenant(tenant)).status_code == 404

    stranger = new_user(client, "stranger")
    other = new_tenant(client, stranger)
    assert client.get(f"/audits/{first['id']}", headers=stranger.in_tenant(other)).status_code == 404
    assert client.get(f"/audits/{first['id']}", headers=stranger.in_tenant(tenant)).status_code == 403


@pytest.mark.parametrize("body", [
    {},
    {"url": "https://example.com/", "html": "<p>x</p>"},
    {"url": "ftp://example.com/"},
    {"html": "<p>x</p>", "breakpoints": [10]},
    {"html": "<p>x</p>", "kinds": ["seo"]},
    {"html": "<p>x</p>", "budget": [{"timings": [{"metric": "largest-contentful-paint", "budget": "NaN"}]}]},
    {"html": "<p>x</p>", "breakpoints": [2 ** 70]},
])
def test_bad_requests_are_problems(client, owner, tenant, body: dict[str, Any]) -> None:  # noqa: ANN001
    r = client.post("/audits", json=body, headers=owner.in_tenant(tenant))
    assert r.status_code in (400, 422), r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_a_viewer_cannot_start_an_audit(client, owner, tenant) -> None:  # noqa: ANN001
    viewer = new_user(client, "viewer")
    add_member(client, owner, tenant, viewer, "viewer")
    r = client.post("/audits", json={"html": "<p>x</p>"}, headers=viewer.in_tenant(tenant))
    assert r.status_code == 403 and r.json()["code"] == "ROLE_INSUFFICIENT"


def test_a_browser_that_cannot_start_fails_the_job_instead_of_hanging(client, platform, owner, tenant,  # noqa: ANN001
                                                                      monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("STUDIO_CHROMIUM", "/nonexistent/chromium")
    result = audit(client, platform, owner, tenant, html="<p>x</p>", kinds=["layout"], breakpoints=[320])
    assert result["status"] == "failed" and result["stage"] == "failed" and result["progress"] == 1.0
    assert result["error"].startswith("the audit browser failed:")
