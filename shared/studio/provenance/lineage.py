"""Lineage: the graph of assets and artifacts around one id, read from the ledger.

An entry links each of its inputs to each of its products (its outputs, or its subject when it has
none): ``upload`` makes an asset from nothing, ``derive`` makes artifacts from an asset, ``edit`` and
``delete`` touch their subject. Going ``up`` follows products back to inputs (what was this made
from?), ``down`` follows inputs to products (what was made from this?). The walk is breadth first and
bounded (nodes, depth, entries per node): a bounded answer says it was cut (``truncated``).
"""
from __future__ import annotations

from collections import deque
from typing import Any

from studio.kernel import errors
from studio.ports.store import DocumentStore, Filter, Query
from studio.provenance import paths
from studio.provenance.ledger import LINEAGE_KINDS

MAX_NODES = 500
MAX_DEPTH = 32
ENTRIES_PER_STEP = 200


def _products(data: dict[str, Any]) -> list[dict[str, Any]]:
    return list(data.get("outputs") or [data.get("subject") or {}])


class _Walk:
    def __init__(self, store: DocumentStore, collection: str) -> None:
        self.store, self.collection = store, collection
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: dict[tuple[str, str, int], dict[str, Any]] = {}
        self.entries: set[int] = set()
        self.truncated = False

    def _node(self, ref: dict[str, Any]) -> None:
        node = self.nodes.setdefault(ref["id"], {"id": ref["id"], "kind": ref.get("kind", ""), "sha256": None})
        node["sha256"] = ref.get("sha256") or node["sha256"]

    def _step(self, node_id: str, field: str) -> list[str]:
        """Read the entries with ``node_id`` in ``field``; record their edges; return the ids one step on."""
        page = self.store.query(Query(self.collection, [Filter(field, "array_contains", node_id)],
                                      limit=ENTRIES_PER_STEP))
        self.truncated |= page.next_cursor is not None
        onward: list[str] = []
        for doc in page.docs:
            data = doc.data
            seq = int(data["seq"])
            self.entries.add(seq)
            sources = [r for r in data.get("inputs", []) if r.get("kind") in LINEAGE_KINDS]
            products = [r for r in _products(data) if r.get("kind") in LINEAGE_KINDS]
            # Only the edges through this node: going up from one variant does not bring in its siblings.
            if field == "product_ids":
                products = [r for r in products if r["id"] == node_id]
            else:
                sources = [r for r in sources if r["id"] == node_id]
            for ref in sources + products:
                self._node(ref)
            for source in sources:
                for product in products:
                    if source["id"] != product["id"]:
                        self.edges[(source["id"], product["id"], seq)] = {
                            "source": source["id"], "target": product["id"], "action": data["action"], "seq": seq}
            nxt = sources if field == "product_ids" else products
            onward.extend(r["id"] for r in nxt)
        return onward

    def walk(self, root: str, field: str) -> None:
        seen, queue = {root}, deque([(root, 0)])
        while queue:
            node_id, depth = queue.popleft()
            if depth >= MAX_DEPTH or len(self.nodes) >= MAX_NODES:
                self.truncated = True
                return
            for nxt in self._step(node_id, field):
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append((nxt, depth + 1))


def lineage(store: DocumentStore, tenant_id: str, env: str, node_id: str, direction: str) -> dict[str, Any]:
    walk = _Walk(store, paths.entries(tenant_id, env))
    if direction in ("up", "both"):
        walk.walk(node_id, "product_ids")
    if direction in ("down", "both"):
        walk.walk(node_id, "input_ids")
    if node_id not in walk.nodes:
        raise errors.NotFound(f"the ledger has no asset or artifact {node_id!r}")
    return {"root": node_id, "direction": direction, "nodes": sorted(walk.nodes.values(), key=lambda n: n["id"]),
            "edges": sorted(walk.edges.values(), key=lambda e: (e["seq"], e["source"], e["target"])),
            "entries": sorted(walk.entries), "truncated": walk.truncated}
