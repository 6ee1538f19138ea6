"""What a domain declares about its store queries, so every index Firestore needs is known.

A domain's ``queries.py`` lists each query its code builds, as a ``StoreQuery``: where the code
builds it and the ``Query`` it builds, with sample values (the index depends on the shape only: the
collection, the filter operators and the order). ``studio.domains`` gathers them;
tests/unit/test_firestore_indexes.py derives each one's composite index and holds
infra/firestore.indexes.json to exactly those, and counts the query constructions in every file so a
new query cannot go unlisted.
"""
from __future__ import annotations

from dataclasses import dataclass

from studio.ports.store import Query


@dataclass(frozen=True)
class StoreQuery:
    site: str  # "<file under studio/>:<function>", e.g. "chat/threads.py:list_threads"
    query: Query

    @property
    def file(self) -> str:
        return self.site.split(":", 1)[0]
