"""The EAA compliance pack built from real audit results, and our axe findings held to axe's own run."""
from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from studio.audits.browser import AXE, FLAGS, chromium_path
from tests.integration.test_audits_api import audit
from tests.support.page_server import page_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pages() -> Iterator[str]:
    with page_server() as base:
        yield base


def test_the_pack_from_two_audits_a_fix_and_a_person(client, platform, owner, tenant, pages) -> None:  # noqa: ANN001
    h = owner.in_tenant(tenant)
    before = audit(client, platform, owner, tenant, url=pages + "/contrast.html", site_id="shop",
                   kinds=["accessibility", "layout"], breakpoints=[320, 1280])
    pack = client.get("/compliance/eaa/shop", headers=h).json()
    clauses = {c["clause"]: c for c in pack["clauses"]}
    assert pack["audit_id"] == before["id"]
    assert clauses["9.1.4.3"]["status"] == "fail"
    assert f"/audits/{before['id']}#violations/color-contrast" in clauses["9.1.4.3"]["evidence"]
    assert clauses["9.1.4.10"]["status"] == "pass"  # reflow checked at 320 px, nothing overflowed
    assert clauses["9.1.2.2"]["status"] == "not_tested"  # captions need a person
    assert len(pack["clauses"]) == 50  # every WCAG 2.1 A/AA criterion, as EN 301 549 V3.2.1 clause 9
    assert pack["statement"]["conformance_status"] == "partially_compliant"

    # Annex V information and a person's verdict, revisioned: who checked what, and when.
    service = {"service_name": "Studio Shop", "provider": "Ada & Co", "description": "An online shop",
               "contact_email": "a11y@example.com", "enforcement_body": "Autorité de contrôle",
               "enforcement_url": "https://enforcement.example.eu"}
    patch = {"service": service, "checklist": [{"key": "clause:9.1.2.2", "status": "not_applicable",
                                                "note": "no video on the site"}]}
    assert client.patch("/compliance/eaa/shop/site", json=patch, headers=h).status_code == 428
    r = client.patch("/compliance/eaa/shop/site", json=patch, headers={**h, "If-Match": '"0"'})
    assert r.status_code == 200, r.text
    assert r.json()["rev"] == 1 and r.headers["ETag"] == '"1"'
    assert client.patch("/compliance/eaa/shop/site", json=patch, headers={**h, "If-Match": '"0"'}).status_code == 412
    item = r.json()["checklist"]["clause:9.1.2.2"]
    assert item["checked_by"] == owner.user_id and item["checked_at"]

    after = audit(client, platform, owner, tenant, url=pages + "/clean.html", site_id="shop",
                  kinds=["accessibility", "layout"], breakpoints=[320, 1280])
    pack = client.get("/compliance/eaa/shop", headers=h).json()
    clauses = {c["clause"]: c for c in pack["clauses"]}
    assert pack["audit_id"] == after["id"]
    assert clauses["9.1.4.3"]["status"] == "pass"
    assert clauses["9.1.2.2"]["status"] == "not_applicable" and clauses["9.1.2.2"]["checked_by"] == owner.user_id
    assert pack["service_information"]["service_name"] == "Studio Shop" and pack["service_information"]["missing"] == []
    latest, previous = pack["history"][0], pack["history"][1]
    assert latest["audit_id"] == after["id"] and latest["compared_with"] == before["id"]
    assert "color-contrast" in latest["fixed"] and latest["introduced"] == []
    assert previous["audit_id"] == before["id"]

    st = pack["statement"]
    assert st["prepared_on"] < st["review_by"]
    assert st["feedback_contact"] == "a11y@example.com"
    assert st["enforcement_procedure"] == {"body": "Autorité de contrôle", "url": "https://enforcement.example.eu"}
    assert st["conformance_status"] == "partially_compliant"  # most of clause 9 is still not tested
    html = pack["statement_html"]
    assert html.startswith("<!doctype html>") and "a11y@example.com" in html and "Ada &amp; Co" in html
    assert st["review_by"] in html


def test_the_pack_is_per_tenant_and_needs_a_valid_site(client, owner, tenant) -> None:  # noqa: ANN001
    h = owner.in_tenant(tenant)
    empty = client.get("/compliance/eaa/nowhere", headers=h).json()
    assert empty["audit_id"] is None and empty["history"] == []
    assert {c["status"] for c in empty["clauses"]} == {"not_tested"}
    assert empty["statement"]["conformance_status"] == "non_compliant"
    assert client.get("/compliance/eaa/%2e%2e", headers=h).status_code == 404
    assert client.get("/compliance/eaa/" + "x" * 65, headers=h).status_code == 404


@pytest.mark.parametrize("page", ["clean.html", "image-alt.html", "contrast.html", "incomplete.html",
                                  "overflow.html", "small-targets.html"])
def test_our_accessibility_results_match_axes_own_run(client, platform, owner, tenant, pages, page: str) -> None:  # noqa: ANN001
    assert shutil.which("chromium") or chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:  # axe on its own: no proxy, no worker, its default options
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=FLAGS)
        try:
            own_page = browser.new_page(viewport={"width": 412, "height": 823})
            own_page.goto(f"{pages}/{page}")
            own_page.add_script_tag(path=str(AXE))
            own = own_page.evaluate("() => axe.run()")
        finally:
            browser.close()
    ours = audit(client, platform, owner, tenant, url=f"{pages}/{page}", kinds=["accessibility"], device="mobile")
    for kind in ("violations", "incomplete"):
        assert {r["rule"] for r in ours["accessibility"][kind]} == {r["id"] for r in own[kind]}, kind
        own_nodes = {r["id"]: sorted(" ".join(n["target"]) for n in r["nodes"]) for r in own[kind]}
        assert {r["rule"]: sorted(n["selector"] for n in r["nodes"]) for r in ours["accessibility"][kind]} == own_nodes
    assert {r["rule"] for r in ours["accessibility"]["passes"]} == {r["id"] for r in own["passes"]}
