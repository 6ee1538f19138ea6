"""Nexus over real HTTP on the embedded adapters (SQLite store, SQLite bus, the int8 MiniLM, numpy index):
ingest -> atoms -> cards -> search in three modes, re-ingest and delete cascades, tenant isolation,
settings and a change of model, runs, memory, blackboard conflicts, the explorer and influence packs."""
from __future__ import annotations

import base64

import httpx
import pytest

from tests.support.api import User, add_member, new_tenant, new_user
from tests.support.pdf_samples import pdf_bytes
from tests.support.platform import RunningPlatform

GUIDE = """# Brand guide

Our studio writes in a warm, direct voice. Sentences are short and verbs are active.

## Colours

The primary palette is ultramarine blue (#1d3cff) with a coral accent. Never put coral text on blue.

## Typography

Headlines use Inter Tight at 700; body copy uses Source Serif at 400 with generous leading.

## Logo

Keep clear space around the logo equal to the height of the letter S. Do not rotate or recolour it.
"""


def _ingest(c: httpx.Client, platform: RunningPlatform, h: dict[str, str], title: str, content: str,
            fmt: str = "markdown", tags: list[str] | None = None) -> dict:
    r = c.post("/nexus/raw", json={"title": title, "format": fmt, "content": content, "tags": tags or []}, headers=h)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    platform.drain()
    doc = c.get(f"/nexus/raw/{r.json()['id']}", headers=h)
    assert doc.status_code == 200, doc.text
    return dict(doc.json())


def _search(c: httpx.Client, h: dict[str, str], q: str, mode: str, **params: object) -> list[dict]:
    r = c.get("/nexus/search", params={"q": q, "mode": mode, **params}, headers=h)
    assert r.status_code == 200, r.text
    return list(r.json()["results"])


def test_ingest_atoms_cards_and_search_in_three_modes(client: httpx.Client, platform: RunningPlatform,
                                                      owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    doc = _ingest(client, platform, h, "Brand guide", GUIDE, tags=["brand"])
    assert doc["status"] == "ready" and doc["atoms"] == 4 and doc["cards"] == 4
    for atom in doc["atom_list"]:  # offsets point into the stored text; headings follow the structure
        assert doc["text"][atom["start"]:atom["end"]].strip()
    assert [a["heading"] for a in doc["atom_list"]] == [
        "Brand guide", "Brand guide > Colours", "Brand guide > Typography", "Brand guide > Logo"]

    by_meaning = _search(client, h, "which fonts should headings be set in?", "vector")
    assert "Typography" in by_meaning[0]["title"]
    assert by_meaning[0]["scores"]["vector"] > 0.2 and by_meaning[0]["scores"]["keyword"] is None
    exact = _search(client, h, "ultramarine", "keyword")
    assert len(exact) == 1 and "Colours" in exact[0]["title"] and "ultramarine" in exact[0]["snippet"]
    hybrid = _search(client, h, "logo clear space", "hybrid", k=3)
    top = hybrid[0]
    assert "Logo" in top["title"] and top["scores"]["keyword_rank"] == 1 and top["scores"]["vector_rank"] >= 1
    source = top["provenance"]["source"]
    assert source["doc_id"] == doc["id"] and source["atoms"][0]["heading"] == "Brand guide > Logo"
    assert top["provenance"]["author"] == {"kind": "agent", "id": "nexus.ingest"}
    assert _search(client, h, "logo", "keyword", tags="brand") and not _search(client, h, "logo", "keyword", tags="x")

    runs = client.get("/nexus/runs", params={"kind": "ingest"}, headers=h).json()["runs"]
    assert runs[0]["status"] == "done" and runs[0]["counts"]["atoms"] == 4 and runs[0]["doc_id"] == doc["id"]


def test_reingest_replaces_atoms_and_delete_cascades_to_the_index(client: httpx.Client, platform: RunningPlatform,
                                                                  owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    doc = _ingest(client, platform, h, "Notes", "# Notes\n\nThe mascot is a heron called Juniper.")
    assert _search(client, h, "Juniper", "keyword")
    r = client.put(f"/nexus/raw/{doc['id']}", json={"format": "markdown", "content": "# Notes\n\nThe mascot is an owl "
                   "named Basil.\n\n## More\n\nBasil wears a scarf."}, headers={**h, "If-Match": f'"{doc["rev"]}"'})
    assert r.status_code == 200 and r.json()["status"] == "queued", r.text
    stale = client.put(f"/nexus/raw/{doc['id']}", json={"content": "x"}, headers={**h, "If-Match": f'"{doc["rev"]}"'})
    assert stale.status_code == 412 and stale.json()["code"] == "REVISION_CONFLICT"
    platform.drain()
    again = client.get(f"/nexus/raw/{doc['id']}", headers=h).json()
    assert again["status"] == "ready" and again["atoms"] == 2
    assert not _search(client, h, "Juniper", "keyword") and not _search(client, h, "heron", "hybrid", tags="none")
    assert {r["title"] for r in _search(client, h, "Basil", "keyword")} == {"Notes — Notes", "Notes — Notes > More"}
    r = client.delete(f"/nexus/raw/{doc['id']}", params={"base_rev": again["rev"]}, headers=h)
    assert r.status_code == 204, r.text
    assert not _search(client, h, "Basil", "keyword")
    assert all(x["provenance"]["source"] is None or x["provenance"]["source"]["doc_id"] != doc["id"]
               for x in _search(client, h, "owl mascot", "vector"))
    assert client.get(f"/nexus/raw/{doc['id']}", headers=h).status_code == 404


def test_a_query_never_returns_another_tenants_card(client: httpx.Client, platform: RunningPlatform,
                                                    owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    card = client.post("/nexus/cards", json={"title": "Secret recipe", "body": "Cardamom and smoked salt."},
                       headers=h).json()
    other = new_user(client, "other")
    other_tenant = new_tenant(client, other, "Other")
    oh = other.in_tenant(other_tenant)
    for mode in ("keyword", "vector", "hybrid"):
        assert _search(client, oh, "cardamom smoked salt recipe", mode) == []
        assert _search(client, h, "cardamom smoked salt recipe", mode)[0]["card_id"] == card["id"]
    assert client.get(f"/nexus/cards/{card['id']}", headers=oh).status_code == 404
    assert client.get(f"/nexus/cards/{card['id']}", headers={**oh, "X-Tenant-Id": tenant}).status_code == 403
    pack = client.post("/nexus/influence-pack", json={"query": "cardamom"}, headers=oh).json()
    assert pack["cards"] == []


def test_cards_are_revisioned_and_edits_reindex(client: httpx.Client, platform: RunningPlatform, owner: User,
                                                tenant: str) -> None:
    h = owner.in_tenant(tenant)
    card = client.post("/nexus/cards", json={"title": "Tagline", "body": "Make it bold.", "tags": ["copy"]},
                       headers=h).json()
    assert card["author"] == {"kind": "person", "id": owner.user_id} and card["rev"] == 1
    assert client.patch(f"/nexus/cards/{card['id']}", json={"body": "x"}, headers=h).status_code == 428
    r = client.patch(f"/nexus/cards/{card['id']}", json={"body": "Make it luminous.", "base_rev": 1}, headers=h)
    assert r.status_code == 200 and r.json()["rev"] == 2
    assert client.patch(f"/nexus/cards/{card['id']}", json={"body": "y", "base_rev": 1}, headers=h).status_code == 409
    assert _search(client, h, "luminous", "keyword")[0]["card_id"] == card["id"]
    assert not _search(client, h, "bold", "keyword")
    assert client.delete(f"/nexus/cards/{card['id']}", headers={**h, "If-Match": '"2"'}).status_code == 204
    assert not _search(client, h, "luminous", "keyword")


def test_blackboard_conflicts_one_of_two_writers_loses(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    url = "/memory/blackboards/plan.q3"
    assert client.get(url, headers=h).status_code == 404
    assert client.put(url, json={"content": {"step": 1}}, headers=h).status_code == 428
    first = client.put(url, json={"content": {"step": 1}, "base_rev": 0}, headers=h)
    assert first.status_code == 200 and first.json()["rev"] == 1 and first.headers["ETag"] == '"1"'
    # two agents read rev 1 and both write
    a = client.put(url, json={"content": {"step": 2, "by": "a"}}, headers={**h, "If-Match": '"1"'})
    b = client.put(url, json={"content": {"step": 2, "by": "b"}}, headers={**h, "If-Match": '"1"'})
    assert a.status_code == 200 and b.status_code == 412 and b.json()["current_rev"] == 2
    c = client.put(url, json={"content": {"step": 3}, "base_rev": 1}, headers=h)
    assert c.status_code == 409 and c.json()["code"] == "REVISION_CONFLICT"
    assert client.get(url, headers=h).json()["content"] == {"step": 2, "by": "a"}
    boards = client.get("/nexus/memory/blackboards", headers=h).json()["blackboards"]
    assert [x["key"] for x in boards] == ["plan.q3"]
    assert client.put("/memory/blackboards/bad%20key", json={"content": {}, "base_rev": 0},
                      headers=h).status_code == 400
    assert client.delete(url, params={"base_rev": 2}, headers=h).status_code == 204


def test_chat_reply_metadata_lists_the_influence_pack(client: httpx.Client, platform: RunningPlatform, owner: User,
                                                      tenant: str) -> None:
    h = owner.in_tenant(tenant)
    _ingest(client, platform, h, "Brand guide", GUIDE)
    thread = client.post("/chat/threads", json={"title": "Help"}, headers=h).json()
    r = client.post(f"/chat/threads/{thread['id']}/messages", json={"text": "What colours is our palette?"}, headers=h)
    assert r.status_code == 201
    platform.drain()
    messages = client.get(f"/chat/threads/{thread['id']}/messages", headers=h).json()["messages"]
    reply = next(m for m in messages if m["role"] == "agent")
    cards = reply["metadata"]["influence_cards"]
    assert cards and "Colours" in cards[0]["title"] and cards[0]["card_id"].startswith("cd_")
    # the session memory holds the user's message (the pipeline's snippet), and notes can be added
    memory = client.get("/memory/session/messages", params={"thread_id": thread["id"]}, headers=h).json()
    assert memory["messages"][0]["text"] == "What colours is our palette?"
    note = client.post("/memory/session/messages", json={"thread_id": thread["id"], "text": "prefers blue"}, headers=h)
    assert note.status_code == 201
    again = client.get(f"/nexus/memory/sessions/{thread['id']}", headers=h).json()["messages"]
    assert [m["text"] for m in again] == ["What colours is our palette?", "prefers blue"]
    pack = client.post("/nexus/influence-pack", json={"thread_id": thread["id"], "k": 4, "budget_tokens": 60},
                       headers=h).json()
    assert pack["used_tokens"] <= 60 and pack["cards"] and "Colours" in pack["cards"][0]["title"]
    assert client.post("/nexus/influence-pack", json={"thread_id": "th_nope"}, headers=h).status_code == 404


def test_changing_the_model_reembeds_and_keeps_serving(client: httpx.Client, platform: RunningPlatform, owner: User,
                                                       tenant: str) -> None:
    h = owner.in_tenant(tenant)
    _ingest(client, platform, h, "Brand guide", GUIDE)
    settings = client.get("/nexus/settings", headers=h).json()
    assert settings["model"]["active_model"] == "minilm-l6-int8" and "hashing-384" in settings["model"]["available"]
    r = client.put("/nexus/settings/model", json={"model": "hashing-384", "base_rev": 0}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["pending_model"] == "hashing-384" and r.json()["active_model"] == "minilm-l6-int8"
    # before the worker runs, search still uses the old index
    assert client.get("/nexus/search", params={"q": "typography", "mode": "vector"}, headers=h).json()["model"] \
        == "minilm-l6-int8"
    bad = client.put("/nexus/settings/model", json={"model": "gpt-9", "base_rev": 1}, headers=h)
    assert bad.status_code == 422 and bad.json()["code"] == "NEXUS_MODEL_UNKNOWN"
    platform.drain()
    after = client.get("/nexus/settings", headers=h).json()["model"]
    assert after["active_model"] == "hashing-384" and after["pending_model"] is None
    found = client.get("/nexus/search", params={"q": "coral accent palette", "mode": "vector"}, headers=h).json()
    assert found["model"] == "hashing-384" and "Colours" in found["results"][0]["title"]
    runs = client.get("/nexus/runs", params={"kind": "reembed"}, headers=h).json()["runs"]
    assert runs[0]["status"] == "done" and runs[0]["counts"]["embedded"] == 4


def test_settings_chunking_and_hybrid_weights(client: httpx.Client, platform: RunningPlatform, owner: User,
                                              tenant: str) -> None:
    h = owner.in_tenant(tenant)
    r = client.put("/nexus/settings/chunking", json={"max_tokens": 40, "overlap_tokens": 8, "base_rev": 0}, headers=h)
    assert r.status_code == 200 and r.json() == {"max_tokens": 40, "overlap_tokens": 8, "rev": 1}
    history = " ".join(f"In year {n} the studio shipped campaign number {n} for a new client." for n in range(12))
    doc = _ingest(client, platform, h, "Guide", GUIDE + "\n## History\n\n" + history)
    assert doc["atoms"] > 6  # the smaller budget cuts the long section into several atoms
    atoms = doc["atom_list"]
    overlapping = [a for a, b in zip(atoms, atoms[1:], strict=False) if b["start"] < a["end"]]
    assert overlapping  # consecutive atoms of one section share their overlap
    r = client.put("/nexus/settings/hybrid", json={"keyword_weight": 0, "vector_weight": 1, "base_rev": 0}, headers=h)
    assert r.status_code == 200
    only_vector = _search(client, h, "ultramarine", "hybrid")  # keyword ranks weigh nothing now
    assert only_vector and all(x["score"] == pytest.approx(1 / (60 + x["scores"]["vector_rank"]), rel=1e-3)
                               for x in only_vector)


def test_formats_html_and_pdf(client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    html = "<html><body><h1>Launch</h1><p>The launch date is <b>March 3</b>.</p><script>x()</script></body></html>"
    doc = _ingest(client, platform, h, "Launch", html, fmt="html")
    assert doc["text"].startswith("# Launch") and "x()" not in doc["text"]
    assert _search(client, h, "launch date", "keyword")[0]["provenance"]["source"]["doc_id"] == doc["id"]
    pdf = pdf_bytes("Quarterly review: revenue grew by eleven percent.")
    doc = _ingest(client, platform, h, "Review", base64.b64encode(pdf).decode(), fmt="pdf")
    assert "eleven percent" in doc["text"]
    bad = client.post("/nexus/raw", json={"title": "x", "format": "pdf", "content": base64.b64encode(b"junk").decode()},
                      headers=h)
    assert bad.status_code == 422 and bad.json()["code"] == "NEXUS_DOCUMENT_UNREADABLE"
    assert client.post("/nexus/raw", json={"title": "x", "format": "pdf", "content": "%%%"},
                       headers=h).json()["code"] == "NEXUS_DOCUMENT_UNREADABLE"


def test_hostile_input_and_roles(client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    viewer = new_user(client, "viewer")
    add_member(client, owner, tenant, viewer, "viewer")
    vh = viewer.in_tenant(tenant)
    assert client.post("/nexus/cards", json={"title": "t", "body": "b"}, headers=vh).status_code == 403
    assert client.put("/nexus/settings/model", json={"model": "hashing-384", "base_rev": 0},
                      headers=vh).status_code == 403
    assert client.get("/nexus/search", params={"q": "x"}, headers=vh).status_code == 200
    for params in ({"q": "x", "k": 10**20}, {"q": "x", "k": "NaN"}, {"q": "x", "mode": "magic"}, {"q": ""},
                   {"q": "x" * 5000}):
        r = client.get("/nexus/search", params=params, headers=h)
        assert r.status_code == 400, (params, r.text)
    deep = {"content": {}}
    node = deep["content"]
    for _ in range(100):
        node["a"] = {}
        node = node["a"]
    assert client.put("/memory/blackboards/deep", json={**deep, "base_rev": 0}, headers=h).status_code == 400
    assert client.post("/nexus/raw", content=b'{"title": "t", "content": "' + b"a" * (2 << 20) + b'"}',
                       headers={**h, "Content-Type": "application/json"}).status_code == 413
    assert client.post("/nexus/cards", json={"title": "t", "body": "b", "tags": ["no spaces"]},
                       headers=h).status_code == 400
    assert client.get("/vector-explorer/scene", params={"dims": 4}, headers=h).status_code == 400


def test_vector_explorer_scene(client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    items = [{"title": f"Recipe {i}", "text": f"A soup with {veg}, simmered slowly with stock and herbs."}
             for i, veg in enumerate(["leeks", "carrots", "potatoes", "onions"])]
    items += [{"title": f"Match {i}", "text": f"The {team} football team won the league match on penalties."}
              for i, team in enumerate(["red", "blue", "green", "yellow"])]
    r = client.post("/vector-explorer/ingest", json={"items": items}, headers=h)
    assert r.status_code == 201 and len(r.json()["cards"]) == 8
    scene = client.get("/vector-explorer/scene", params={"dims": 3}, headers=h).json()
    assert len(scene["points"]) == 8 and all(p["z"] is not None for p in scene["points"])
    assert scene["explained_variance"][0] > 0
    by_title = {p["title"]: p["cluster"] for p in scene["points"]}
    assert len({by_title[f"Recipe {i}"] for i in range(4)}) == 1  # the soups share a cluster
    assert by_title["Recipe 0"] != by_title["Match 0"]
    assert sum(c["size"] for c in scene["clusters"]) == 8 and all(c["label"] for c in scene["clusters"])


def test_a_failed_reingest_keeps_the_old_atoms_and_cards(client: httpx.Client, platform: RunningPlatform,
                                                         owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    doc = _ingest(client, platform, h, "Mascot", "# Mascot\n\nOur mascot is a heron named Juniper.")
    too_long = " ".join(f"word{n}" for n in range(30_000))  # more atoms than one ingest takes
    r = client.put(f"/nexus/raw/{doc['id']}", json={"content": too_long}, headers={**h, "If-Match": f'"{doc["rev"]}"'})
    assert r.status_code == 200, r.text
    platform.drain()
    after = client.get(f"/nexus/raw/{doc['id']}", headers=h).json()
    assert after["status"] == "failed" and "atoms" in after["error"] and after["rev"] == doc["rev"] + 1
    assert [a["heading"] for a in after["atom_list"]] == ["Mascot"]  # the last good ingest's atoms
    assert _search(client, h, "Juniper", "keyword")  # and its cards, still served
    run = client.get(f"/nexus/runs/{after['run_id']}", headers=h).json()
    assert run["status"] == "failed" and run["kind"] == "ingest"


def test_tag_filters_in_every_mode(client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    items = [{"title": "Blue poster", "text": "A poster in ultramarine blue.", "tags": ["print", "blue"]},
             {"title": "Blue banner", "text": "A web banner in ultramarine blue.", "tags": ["web", "blue"]},
             {"title": "Red poster", "text": "A poster in scarlet red.", "tags": ["print"]}]
    assert client.post("/vector-explorer/ingest", json={"items": items}, headers=h).status_code == 201
    for mode in ("keyword", "vector", "hybrid"):
        both = _search(client, h, "ultramarine poster", mode, tags="print,blue")
        assert [r["title"] for r in both] == ["Blue poster"], mode  # cards carrying every tag asked
        assert {r["title"] for r in _search(client, h, "poster", mode, tags="print")} <= {"Blue poster", "Red poster"}
    listed = client.get("/nexus/cards", params={"tag": "web"}, headers=h).json()["cards"]
    assert [c["title"] for c in listed] == ["Blue banner"]


def test_search_is_a_registered_read_only_tool(client: httpx.Client, platform: RunningPlatform, owner: User,
                                               tenant: str) -> None:
    h = owner.in_tenant(tenant)
    doc = _ingest(client, platform, h, "Brand guide", GUIDE, tags=["brand"])
    spec = client.get("/tools/nexus.search", headers=h).json()
    assert spec["danger"] == "none" and spec["side_effects"] == "read" and spec["idempotent"]
    r = client.post("/tools/nexus.search/invoke",
                    json={"input": {"q": "ultramarine", "k": 3, "mode": "keyword", "tags": ["brand"]}}, headers=h)
    assert r.status_code == 200, r.text
    out = r.json()["output"]
    assert out["results"][0]["title"].endswith("Colours")
    assert out["results"][0]["provenance"]["source"]["doc_id"] == doc["id"]
    viewer = new_user(client, "nexus-tool-viewer")
    add_member(client, owner, tenant, viewer, "viewer")
    r = client.post("/tools/nexus.search/invoke", json={"input": {"q": "coral", "mode": "bogus"}},
                    headers=viewer.in_tenant(tenant))
    assert r.status_code == 422, r.text
    r = client.post("/tools/nexus.search/invoke", json={"input": {"q": "coral"}}, headers=viewer.in_tenant(tenant))
    assert r.status_code == 200 and r.json()["output"]["results"], r.text
