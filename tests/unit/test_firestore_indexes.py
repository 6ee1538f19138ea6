"""infra/firestore.indexes.json covers every query the code makes, and nothing else.

The queries are the domain registry's: each domain's ``queries.py`` lists every ``Query`` its code
builds, as a ``StoreQuery`` (call site + the query with sample values), and ``studio.domains`` gathers
them; the adapters' own are listed below. The index each one needs is derived with the Firestore
adapter's own ordering rules: equality filters (``==``, ``in``, ``array_contains``) first, then the
effective order (``order_by`` plus unordered range fields). A query needs a composite index when it has
equality filters and an order, or orders by two fields; a single order field, or equality filters
alone, are served by Firestore's automatic single-field indexes. To keep the lists honest, every
``Query(`` call in shared/studio is counted per file and must match the call sites listed.

The field overrides, for the record (the JSON format takes no comments):
* idempotency._expire_at: the TTL policy (the Firestore adapter mirrors ``expire_at_ts`` there as
  a Timestamp, which TTL requires); realtime_tickets and session_ends likewise;
* dataset_events.input/output/metadata: arbitrary JSON maps: every nested field would get index
  entries (write cost, and Firestore's 40,000 entries per document); nothing queries them;
* messages.text, chunks.text, snippets.text, outbox.data: long values nobody queries by.
* provenance_entries.params/inputs/outputs/actor/subject: the ledger's hashed body, queried only through
  its derived fields (subject_id, actor_id, input_ids, product_ids).
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from studio import domains
from studio.adapters.firestore_query import effective_order
from studio.kernel.store_queries import StoreQuery
from studio.ports.store import Query

ROOT = Path(__file__).resolve().parents[2]
INDEXES = ROOT / "infra" / "firestore.indexes.json"
SHARED = ROOT / "shared" / "studio"
EQUALITY = {"==", "in", "array_contains"}

# The adapters' own: outbox_pending orders by one field (and __name__): single-field index.
ADAPTER_QUERIES = [StoreQuery("adapters/firestore_store.py:outbox_pending", Query("outbox", order_by=[("created", "asc")]))]
QUERIES: list[StoreQuery] = [*domains.store_queries(), *ADAPTER_QUERIES]


def needed_index(query: Query) -> tuple[str, frozenset[tuple[str, str]], tuple[tuple[str, str], ...]] | None:
    """(collection group, equality fields, ordered fields) of the composite index, or None."""
    order = tuple((f, "DESCENDING" if d == "desc" else "ASCENDING") for f, d in effective_order(query))
    equal = frozenset((f.field, "CONTAINS" if f.op == "array_contains" else "ASCENDING")
                      for f in query.filters if f.op in EQUALITY)
    if (equal and order) or len(order) > 1:
        return query.collection.rsplit("/", 1)[-1], equal, order
    return None


def _serves(index: dict[str, Any], need: tuple[str, frozenset[Any], tuple[Any, ...]]) -> bool:
    group, equal, order = need
    fields = [(f["fieldPath"], f.get("order") or f.get("arrayConfig") or "VECTOR") for f in index["fields"]
              if f["fieldPath"] != "__name__"]
    head, tail = fields[: len(equal)], tuple(fields[len(equal):])
    return index["collectionGroup"] == group and index.get("queryScope", "COLLECTION") == "COLLECTION" \
        and frozenset(head) == equal and tail == order


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return json.loads(INDEXES.read_text())  # type: ignore[no-any-return]


def test_the_file_has_the_firebase_cli_structure(doc: dict[str, Any]) -> None:
    assert set(doc) <= {"indexes", "fieldOverrides"}
    for index in doc["indexes"]:
        assert set(index) == {"collectionGroup", "queryScope", "fields"}, index
        assert index["queryScope"] in {"COLLECTION", "COLLECTION_GROUP"}
        assert len(index["fields"]) >= 2 or _is_vector(index), f"a one-field index is automatic: {index}"
        for f in index["fields"]:
            assert set(f) in ({"fieldPath", "order"}, {"fieldPath", "arrayConfig"}, {"fieldPath", "vectorConfig"}), f
            assert f.get("order", "ASCENDING") in {"ASCENDING", "DESCENDING"} and f.get("arrayConfig", "CONTAINS") == "CONTAINS"
    specs = [json.dumps(i, sort_keys=True) for i in doc["indexes"]]
    assert len(specs) == len(set(specs)), "duplicate index"
    for override in doc.get("fieldOverrides", []):
        assert {"collectionGroup", "fieldPath", "indexes"} <= set(override) <= {
            "collectionGroup", "fieldPath", "indexes", "ttl"}, override
        for i in override["indexes"]:
            assert set(i) in ({"order", "queryScope"}, {"arrayConfig", "queryScope"}), i


@pytest.mark.parametrize(("site", "query"), [(q.site, q.query) for q in QUERIES],
                         ids=[f"{q.site}:{i}" for i, q in enumerate(QUERIES)])
def test_every_query_has_its_index(doc: dict[str, Any], site: str, query: Query) -> None:
    need = needed_index(query)
    if need is not None:
        assert any(_serves(i, need) for i in doc["indexes"]), f"{site} needs a composite index {need}"
    # An exempted field has no single-field index: no query may filter or order on it.
    exempt = {(o["collectionGroup"], o["fieldPath"]) for o in doc.get("fieldOverrides", []) if not o["indexes"]}
    group = query.collection.rsplit("/", 1)[-1]
    used = {f.field for f in query.filters} | {f for f, _ in query.order_by}
    assert not {(group, f) for f in used} & exempt, f"{site} queries a field exempted from indexing"


def _is_vector(index: dict[str, Any]) -> bool:
    return any("vectorConfig" in f for f in index["fields"])


def test_every_index_is_used_by_a_query(doc: dict[str, Any]) -> None:
    needs = [n for q in QUERIES if (n := needed_index(q.query)) is not None]
    unused = [i for i in doc["indexes"] if not _is_vector(i) and not any(_serves(i, n) for n in needs)]
    assert not unused, f"indexes no query needs (each one costs every write): {unused}"


def test_the_registry_lists_every_query_call_in_the_code() -> None:
    calls = Counter()
    for path in SHARED.rglob("*.py"):
        rel = path.relative_to(SHARED).as_posix()
        if rel.startswith("adapters/") or rel == "ports/store.py":  # the port's own plumbing (iter_all)
            continue
        if path.name == "queries.py":  # the declarations themselves
            continue
        calls[rel] += len(re.findall(r"(?<![\w.])Query\(", path.read_text()))
    listed = Counter(q.file for q in {q.site: q for q in QUERIES}.values() if not q.file.startswith("adapters/"))
    assert +calls == listed, "a Query( call site was added or removed: list it in its domain's queries.py"


def test_vector_indexes_are_the_nexus_slots_at_the_embedding_dimension(doc: dict[str, Any]) -> None:
    """find_nearest (adapters/firestore_vectors.py) searches ``vec_0``/``vec_1`` of Nexus cards, alone or
    after an ``array_contains`` on ``tags``: one vector index per slot and shape, at the port's DIM."""
    from studio.ports.embeddings import DIM

    vector = [[(f["fieldPath"], f.get("arrayConfig") or json.dumps(f.get("vectorConfig"), sort_keys=True))
               for f in i["fields"]] for i in doc["indexes"] if _is_vector(i)]
    config = json.dumps({"dimension": DIM, "flat": {}}, sort_keys=True)
    assert sorted(vector) == sorted([[(f"vec_{s}", config)] for s in (0, 1)]
                                    + [[("tags", "CONTAINS"), (f"vec_{s}", config)] for s in (0, 1)])
