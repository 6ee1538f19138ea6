"""Retrieval quality on the committed labelled set (tests/fixtures/nexus/stdlib_qrels.json: 250 queries over
2,004 passages; build_stdlib_qrels.py beside it says how it was made): recall@10 and nDCG@10 of keyword,
vector and hybrid search through the real services, printed; hybrid must beat both on both measures."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.nexus_quality import QRELS, evaluate, ndcg_at, recall_at

pytestmark = pytest.mark.slow  # embeds 2,004 passages with the local model


def test_the_labelled_set_is_large_enough_and_consistent() -> None:
    data = json.loads(QRELS.read_text())
    ids = {p["id"] for p in data["passages"]}
    assert len(data["passages"]) >= 1_000 and len(data["queries"]) >= 200
    assert all(q["relevant"] and set(q["relevant"]) <= ids for q in data["queries"])


def test_metrics() -> None:
    assert recall_at(["a", "x", "b"], {"a", "b", "c"}) == pytest.approx(2 / 3)
    assert ndcg_at(["a", "b"], {"a", "b"}) == pytest.approx(1.0)
    assert ndcg_at(["x", "a"], {"a"}) == pytest.approx(1 / 1.5849625, rel=1e-6)
    assert ndcg_at(["x"] * 10, {"a"}) == 0.0


def test_hybrid_beats_keyword_and_vector(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found, info = evaluate(tmp_path)
    with capsys.disabled():
        print(f"\nNexus quality ({info['queries']} queries, {info['passages']} passages, {info['model']}):")
        for q in found:
            print(f"  {q.mode:<8} recall@10 {q.recall:.3f}  nDCG@10 {q.ndcg:.3f}")
    by_mode = {q.mode: q for q in found}
    hybrid = by_mode["hybrid"]
    for other in ("keyword", "vector"):
        assert hybrid.recall > by_mode[other].recall, (other, found)
        assert hybrid.ndcg > by_mode[other].ndcg, (other, found)
    assert by_mode["keyword"].recall > 0.3 and by_mode["vector"].recall > 0.3  # both work on their own
