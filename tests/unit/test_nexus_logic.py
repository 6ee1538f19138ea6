"""Nexus's pure logic: atoms along the structure with overlap, HTML and PDF text, reciprocal rank fusion,
snippets, the PCA/k-means scene, the hashing embedder and exact top-k."""
from __future__ import annotations

import numpy as np
import pytest

from studio.adapters.local_embeddings import hashing_vectors
from studio.adapters.numpy_vectors import build_matrix
from studio.kernel import errors
from studio.nexus.atoms import cut, estimate_tokens
from studio.nexus.explorer import kmeans, pca
from studio.nexus.extract import to_text
from studio.nexus.fusion import rrf
from studio.nexus.snippets import snippet


def test_atoms_follow_headings_and_never_cross_a_section() -> None:
    text = "Intro line.\n\n# A\n\nalpha one.\n\n## B\n\nbeta two.\n\n# C\n\ngamma."
    atoms = cut(text, 200, 30)
    assert [a.heading for a in atoms] == ["", "A", "A > B", "C"]
    assert [text[a.start:a.end] for a in atoms] == ["Intro line.", "# A\n\nalpha one.", "## B\n\nbeta two.",
                                                    "# C\n\ngamma."]


def test_long_sections_are_cut_to_the_budget_with_overlap() -> None:
    words = [f"w{i}" for i in range(300)]
    text = "# Long\n\n" + " ".join(words)
    atoms = cut(text, 80, 20)  # 60 words per atom, 15 shared
    pieces = [text[a.start:a.end].split() for a in atoms]
    assert all(estimate_tokens(text[a.start:a.end]) <= 80 for a in atoms)
    assert len(atoms) == 7  # 302 words (the heading line too), windows of 60 starting every 45
    for before, after in zip(pieces, pieces[1:], strict=False):
        assert before[-15:] == after[:15]  # the overlap
    assert pieces[-1][-1] == "w299"


def test_paragraph_ends_are_preferred_cut_points() -> None:
    para = " ".join(["word"] * 40)
    text = f"{para}\n\n{para}\n\n{para}"
    atoms = cut(text, 80, 0)  # 60 words per atom: the first ends at the first paragraph's end
    assert text[atoms[0].start:atoms[0].end] == para


def test_html_becomes_markdown_structure_without_scripts() -> None:
    html = "<h2>Title</h2><p>One &amp; two</p><script>alert(1)</script><ul><li>x</li></ul>"
    assert to_text("html", html) == "## Title\n\nOne & two\n\nx"


def test_unreadable_and_empty_documents_are_refused() -> None:
    with pytest.raises(errors.StudioError) as bad:
        to_text("pdf", "not base64!")
    assert bad.value.code.code == "NEXUS_DOCUMENT_UNREADABLE"
    with pytest.raises(errors.StudioError):
        to_text("html", "<script>only()</script>")


def test_rrf_adds_ranks_from_both_lists() -> None:
    fused = rrf([(["a", "b", "c"], 1.0), (["c", "a"], 1.0)], k=60)
    assert [d for d, _ in fused] == ["a", "c", "b"]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)
    assert rrf([(["a"], 0.0), (["b"], 1.0)])[0][0] == "b"  # a zero weight never wins


def test_snippet_centres_on_query_words() -> None:
    body = "Filler " * 80 + "The ultramarine palette is ours. " + "More filler " * 80
    s = snippet(body, "ultramarine palettes", 80)
    assert "ultramarine palette" in s and s.startswith("… ") and s.endswith(" …")
    assert snippet("short text", "x") == "short text"


def test_pca_and_kmeans_separate_two_groups() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(0, 0.05, (10, 16)) + np.eye(16)[0]
    b = rng.normal(0, 0.05, (10, 16)) + np.eye(16)[1]
    m = np.vstack([a, b]).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    coords, explained = pca(m, 2)
    assert coords.shape == (20, 2) and explained[0] > 0.8
    labels = kmeans(m, 2)
    assert len(set(labels[:10])) == 1 and len(set(labels[10:])) == 1 and labels[0] != labels[10]
    assert pca(m[:1], 3)[0].shape == (1, 3)  # one point: no crash


def test_hashing_vectors_are_unit_and_share_words() -> None:
    v = hashing_vectors(["red apples and pears", "red apples", "quantum chromodynamics", ""])
    assert np.allclose(np.linalg.norm(v[:3], axis=1), 1) and not v[3].any()
    assert v[0] @ v[1] > v[0] @ v[2]


def test_exact_top_k_with_a_tag_filter() -> None:
    vecs = np.eye(4, dtype=np.float32)
    matrix = build_matrix(1, [(f"c{i}", vecs[i].tolist(), ["even"] if i % 2 == 0 else []) for i in range(4)], 4)
    q = np.array([0.1, 0.9, 0.5, 0.0], dtype=np.float32)
    assert [h.doc_id for h in matrix.nearest(q.tolist(), 2)] == ["c1", "c2"]
    assert [h.doc_id for h in matrix.nearest(q.tolist(), 4, tag="even")] == ["c2", "c0"]
    assert matrix.nearest([1.0, 0.0], 2) == []  # a vector of the wrong dimension finds nothing
