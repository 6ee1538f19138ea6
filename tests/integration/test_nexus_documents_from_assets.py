"""Documents from media assets, end to end on the local runtime: a PDF and a Markdown file uploaded through
/media-v2 (signed URL -> finalize -> ingest -> optimiser, and the multipart form) become `document` assets,
then `POST /nexus/raw {asset_id}` ingests them and search finds their words. Lies about a type, roles,
another tenant's asset, other kinds of asset and bytes changed after the check are refused."""
from __future__ import annotations

from typing import Any

import httpx

from tests.support import media_samples as samples
from tests.support.api import User, add_member, new_tenant, new_user
from tests.support.pdf_samples import pdf_bytes
from tests.support.platform import RunningPlatform

NOTES = """# Launch notes

The spring campaign opens with the periwinkle poster series on the ninth of April.

## Suppliers

Posters are printed by Halvorsen & Daughters on recycled stock.
"""


def _upload(c: httpx.Client, h: dict[str, str], data: bytes, content_type: str, filename: str) -> tuple[str, str]:
    r = c.post("/media-v2/uploads", json={"filename": filename, "content_type": content_type,
                                          "size_bytes": len(data)}, headers=h)
    assert r.status_code == 201, r.text
    ticket = r.json()
    put = httpx.put(ticket["upload_url"], content=data, headers=ticket["headers"], timeout=30)
    assert put.status_code == 200, put.text
    return str(ticket["asset_id"]), str(ticket["upload_url"])


def _asset(c: httpx.Client, h: dict[str, str], asset_id: str) -> dict[str, Any]:
    r = c.get(f"/media-v2/assets/{asset_id}", headers=h)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _ingest_asset(c: httpx.Client, platform: RunningPlatform, h: dict[str, str], asset_id: str,
                  **extra: Any) -> dict[str, Any]:
    r = c.post("/nexus/raw", json={"asset_id": asset_id, **extra}, headers=h)
    assert r.status_code == 202, r.text
    assert r.json()["asset_id"] == asset_id and r.json()["status"] == "queued"
    platform.drain()
    doc = c.get(f"/nexus/raw/{r.json()['id']}", headers=h)
    assert doc.status_code == 200, doc.text
    return dict(doc.json())


def _keyword(c: httpx.Client, h: dict[str, str], q: str) -> list[dict[str, Any]]:
    r = c.get("/nexus/search", params={"q": q, "mode": "keyword"}, headers=h)
    assert r.status_code == 200, r.text
    return list(r.json()["results"])


def test_a_pdf_and_a_markdown_file_uploaded_as_media_are_ingested_and_found(
        client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    pdf = pdf_bytes("Quarterly review: the heron mascot doubled newsletter signups.",
                    {"Title": "Q3 review", "Author": "Ada Lovelace"})
    pdf_id, _ = _upload(client, h, pdf, "application/pdf", "q3-review.pdf")
    platform.drain()
    asset = _asset(client, h, pdf_id)
    assert (asset["kind"], asset["status"], asset["sniffed_type"]) == ("document", "ready", "application/pdf")
    assert asset["metadata"]["pages"] == 1 and asset["metadata"]["bytes"] == len(pdf)
    assert asset["metadata"]["title"] == "Q3 review" and asset["metadata"]["author"] == "Ada Lovelace"
    assert asset["srcset"] is None and client.get(f"/media-v2/assets/{pdf_id}/artifacts",
                                                  headers=h).json()["artifacts"] == []  # no optimiser variants
    assert client.get("/media-v2/assets", params={"kind": "document"}, headers=h).json()["assets"][0]["id"] == pdf_id

    doc = _ingest_asset(client, platform, h, pdf_id, tags=["reviews"])
    assert doc["status"] == "ready" and doc["format"] == "pdf" and doc["title"] == "q3-review.pdf"
    assert "heron mascot doubled" in doc["text"] and doc["tags"] == ["reviews"]
    found = _keyword(client, h, "newsletter signups")
    assert found and found[0]["provenance"]["source"]["doc_id"] == doc["id"]

    md = client.post("/media-v2/assets", files={"file": ("launch.md", NOTES.encode(), "text/markdown")},
                     data={"title": "Launch notes"}, headers=h)  # the multipart form: ingested at once
    assert md.status_code == 201, md.text
    assert (md.json()["kind"], md.json()["sniffed_type"]) == ("document", "text/markdown")
    assert md.json()["metadata"]["chars"] == len(NOTES) and md.json()["metadata"]["lines"] == NOTES.count("\n")
    platform.drain()
    assert _asset(client, h, md.json()["id"])["status"] == "ready"
    doc = _ingest_asset(client, platform, h, md.json()["id"], title="Spring launch")
    assert doc["format"] == "markdown" and doc["title"] == "Spring launch" and doc["atoms"] == 2
    assert [a["heading"] for a in doc["atom_list"]] == ["Launch notes", "Launch notes > Suppliers"]
    top = _keyword(client, h, "periwinkle")[0]
    assert "periwinkle" in top["snippet"] and top["provenance"]["source"]["doc_id"] == doc["id"]
    by_meaning = client.get("/nexus/search", params={"q": "who prints the posters?", "mode": "vector"},
                            headers=h).json()["results"]
    assert "Suppliers" in by_meaning[0]["title"]

    # replacing a document from an asset re-ingests it; from content again drops the asset link
    html = client.post("/media-v2/assets", files={"file": ("page.html", b"<h1>Moved</h1><p>The launch moved to "
                                                           b"May, said the saffron memo.</p>", "text/html")}, headers=h)
    assert html.status_code == 201 and html.json()["sniffed_type"] == "text/html", html.text
    platform.drain()
    replaced = client.put(f"/nexus/raw/{doc['id']}", json={"asset_id": html.json()["id"]},
                          headers={**h, "If-Match": f'"{doc["rev"]}"'})
    assert replaced.status_code == 200 and replaced.json()["format"] == "html", replaced.text
    platform.drain()
    assert _keyword(client, h, "saffron") and not _keyword(client, h, "periwinkle")


def test_a_file_that_lies_about_its_type_is_refused(client: httpx.Client, platform: RunningPlatform, owner: User,
                                                    tenant: str) -> None:
    h = owner.in_tenant(tenant)
    png_id, _ = _upload(client, h, samples.png(), "application/pdf", "scan.pdf")  # a PNG renamed .pdf
    platform.drain()
    asset = _asset(client, h, png_id)
    assert asset["status"] == "failed" and asset["reason"].startswith("type mismatch")
    assert asset["download_url"] is None
    r = client.post("/nexus/raw", json={"asset_id": png_id}, headers=h)
    assert r.status_code == 415 and r.json()["code"] == "MEDIA_DOCUMENT_TYPE_MISMATCH"
    assert r.headers["content-type"].startswith("application/problem+json")

    multipart = client.post("/media-v2/assets", files={"file": ("scan.pdf", samples.png(), "application/pdf")},
                            headers=h)
    assert multipart.status_code == 415 and multipart.json()["code"] == "MEDIA_DOCUMENT_TYPE_MISMATCH"
    as_image = client.post("/media-v2/assets", files={"file": ("x.png", pdf_bytes("hi"), "image/png")}, headers=h)
    assert as_image.status_code == 415 and as_image.json()["code"] == "MEDIA_DOCUMENT_TYPE_MISMATCH"
    binary_text = client.post("/media-v2/assets", files={"file": ("x.txt", b"abc\x00def", "text/plain")}, headers=h)
    assert binary_text.status_code == 415 and binary_text.json()["code"] == "MEDIA_DOCUMENT_TYPE_MISMATCH"
    script = client.post("/media-v2/assets", files={"file": ("x.md", b"# Hi\n<script>x()</script>", "text/markdown")},
                         headers=h)
    assert script.status_code == 201 and script.json()["status"] == "quarantined"
    assert client.post("/nexus/raw", json={"asset_id": script.json()["id"]},
                       headers=h).json()["code"] == "NEXUS_ASSET_NOT_DOCUMENT"

    too_big = client.post("/media-v2/uploads", json={"filename": "big.pdf", "content_type": "application/pdf",
                                                     "size_bytes": 21 * 1024 * 1024}, headers=h)
    assert too_big.status_code == 413 and too_big.json()["code"] == "MEDIA_TOO_LARGE"
    junk = client.post("/media-v2/assets", files={"file": ("x.pdf", b"%PDF-1.4\n" + b"0" * 500, "application/pdf")},
                       headers=h)
    assert junk.status_code == 201 and junk.json()["status"] == "failed" and "PDF" in junk.json()["reason"]


def test_only_a_member_of_the_assets_tenant_ingests_it(client: httpx.Client, platform: RunningPlatform,
                                                      owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    secret = "The vault code word is marmalade."
    asset_id = client.post("/media-v2/assets", files={"file": ("s.txt", secret.encode(), "text/plain")},
                           headers=h).json()["id"]
    platform.drain()
    viewer = new_user(client, "viewer")
    add_member(client, owner, tenant, viewer, "viewer")
    denied = client.post("/nexus/raw", json={"asset_id": asset_id}, headers=viewer.in_tenant(tenant))
    assert denied.status_code == 403 and denied.json()["code"] == "ROLE_INSUFFICIENT"

    other = new_user(client, "other")
    other_tenant = new_tenant(client, other, "Other")
    oh = other.in_tenant(other_tenant)
    stolen = client.post("/nexus/raw", json={"asset_id": asset_id}, headers=oh)
    assert stolen.status_code == 404 and "marmalade" not in stolen.text
    platform.drain()
    assert client.get("/nexus/raw", headers=oh).json()["documents"] == []
    assert _keyword(client, oh, "marmalade") == []

    image_id = client.post("/media-v2/assets", files={"file": ("p.png", samples.png(), "image/png")},
                           headers=h).json()["id"]
    not_doc = client.post("/nexus/raw", json={"asset_id": image_id}, headers=h)
    assert not_doc.status_code == 422 and not_doc.json()["code"] == "NEXUS_ASSET_NOT_DOCUMENT"
    for body in ({"asset_id": "as_" + "0" * 20}, {"asset_id": asset_id, "content": "x", "title": "t"},
                 {"asset_id": asset_id, "format": "pdf"}, {"asset_id": "../../etc/passwd"}, {"content": "no title"},
                 {"title": "neither"}, {"asset_id": [asset_id]}):
        r = client.post("/nexus/raw", json=body, headers=h)
        assert r.status_code in (400, 404) and r.headers["content-type"].startswith("application/problem+json"), body
    gone = client.get(f"/media-v2/assets/{asset_id}", headers=h).json()
    assert client.delete(f"/media-v2/assets/{asset_id}", headers={**h, "If-Match": f'"{gone["rev"]}"'}).status_code == 204
    assert client.post("/nexus/raw", json={"asset_id": asset_id}, headers=h).status_code == 404


def test_bytes_put_after_the_check_are_not_ingested(client: httpx.Client, platform: RunningPlatform, owner: User,
                                                    tenant: str) -> None:
    h = owner.in_tenant(tenant)
    text = b"Plain notes about the harbour."
    asset_id, url = _upload(client, h, text, "text/plain", "notes.txt")
    platform.drain()
    assert _asset(client, h, asset_id)["status"] == "ready"
    swapped = b"Plain notes about the harbouX."  # same size: the signed URL still takes it
    put = httpx.put(url, content=swapped, headers={"Content-Type": "text/plain"}, timeout=10)
    assert put.status_code == 200, put.text  # an upload URL stays valid for its hour
    r = client.post("/nexus/raw", json={"asset_id": asset_id}, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "NEXUS_ASSET_NOT_DOCUMENT" and "changed" in r.json()["detail"]


def test_a_pdfs_author_goes_through_the_privacy_policy(client: httpx.Client, platform: RunningPlatform, owner: User,
                                                       tenant: str) -> None:
    h = owner.in_tenant(tenant)
    r = client.put("/privacy/policy", json={"actions": {"EMAIL": "redact", "PHONE": "block"}, "base_rev": 0}, headers=h)
    assert r.status_code == 200, r.text
    redacted = client.post("/media-v2/assets", files={"file": ("a.pdf", pdf_bytes("Body text.", {
        "Author": "ada@example.com"}), "application/pdf")}, headers=h).json()
    assert redacted["metadata"]["author"] == "[REDACTED:EMAIL]"
    withheld = client.post("/media-v2/assets", files={"file": ("b.pdf", pdf_bytes("Other body.", {
        "Title": "Call +1 650 253 0000", "Author": "Ada"}), "application/pdf")}, headers=h).json()
    assert withheld["status"] == "processing" and withheld["metadata"]["title"] is None
    assert withheld["metadata"]["withheld"] is True and withheld["metadata"]["pages"] == 1
