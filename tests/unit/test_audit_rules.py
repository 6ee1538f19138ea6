"""Pure parts of the audits domain: WCAG -> EN 301 549, Lighthouse budgets, CLS windows, layout checks."""
from __future__ import annotations

import pytest

from studio.audits import budgets, layout_checks, wcag
from studio.audits.browser import cls_of


def test_every_wcag21_aa_criterion_has_its_clause_and_22_additions_have_none() -> None:
    assert len(wcag.CLAUSES) == 50
    assert wcag.CRITERIA["1.4.10"].clause == "9.1.4.10"
    assert wcag.CRITERIA["2.5.8"].clause is None
    assert wcag.CLAUSES[0] == "9.1.1.1" and wcag.CLAUSES[-1] == "9.4.1.3"
    assert wcag.CLAUSES.index("9.1.4.3") < wcag.CLAUSES.index("9.1.4.10")  # numeric, not text order


def test_axe_tags_to_criteria_and_clauses() -> None:
    tags = ["cat.color", "wcag2aa", "wcag143", "wcag1410", "EN-301-549", "EN-9.1.4.3", "ACT"]
    assert wcag.criteria_from_tags(tags) == ["1.4.3", "1.4.10"]
    assert wcag.clauses_for(["1.4.3", "1.4.10"], tags) == [
        {"clause": "9.1.4.3", "source": "axe+table"}, {"clause": "9.1.4.10", "source": "table"}]
    assert wcag.clauses_for(["2.5.8"], ["wcag258"]) == []


@pytest.mark.parametrize(("pattern", "url", "matches"), [
    (None, "https://a.example/x", True),
    ("/", "https://a.example/x", True),
    ("/shop/*", "https://a.example/shop/item?id=1", True),
    ("/shop/*", "https://a.example/blog/", False),
    ("/*.php$", "https://a.example/index.php", True),
    ("/*.php$", "https://a.example/index.php?x=1", False),
])
def test_budget_paths_match_like_lighthouse(pattern: str | None, url: str, matches: bool) -> None:
    budget = {} if pattern is None else {"path": pattern}
    assert (budgets.matching_budget([budget], url) is budget) == matches


def test_the_last_matching_budget_wins_and_lines_compare_measured_to_budget() -> None:
    first, second = {"path": "/*", "timings": [{"metric": "largest-contentful-paint", "budget": 10}]}, {
        "path": "/shop*", "resourceSizes": [{"resourceType": "script", "budget": 100}],
        "resourceCounts": [{"resourceType": "total", "budget": 3}],
        "timings": [{"metric": "largest-contentful-paint", "budget": 2000, "tolerance": 500},
                    {"metric": "speed-index", "budget": 3000}]}
    chosen = budgets.matching_budget([first, second], "https://a.example/shop")
    assert chosen is second
    lines = budgets.judge(second, {"bytes_by_type": {"script": 150 * 1024}, "requests_by_type": {"total": 3},
                                   "lcp_ms": 2400.0})
    assert [(line["what"], line["measured"], line["budget"], line["over"]) for line in lines] == [
        ("script", 150.0, 100, True), ("total", 3, 3, False), ("largest-contentful-paint", 2400.0, 2500, False),
        ("speed-index", None, 3000, None)]


def test_cls_is_the_largest_session_window() -> None:
    assert cls_of([]) == 0
    assert cls_of([[100, 0.05], [500, 0.05], [3000, 0.02]]) == pytest.approx(0.1)  # gap >= 1 s ends a window
    assert cls_of([[t, 0.01] for t in range(0, 7000, 500)]) == pytest.approx(0.1)  # a window lasts <= 5 s


def _graph(nodes: list[dict]) -> list[dict]:
    bps, parsed = layout_checks.parse_graph({"nodes": nodes})
    return layout_checks.check_layout(bps, parsed)


def _box(x: float, y: float, w: float, h: float) -> dict:
    return {"x": x, "y": y, "w": w, "h": h}


def test_children_of_an_overflowing_box_are_not_named_twice_and_scrollers_may_overflow() -> None:
    found = _graph([
        {"id": "#wide", "boxes": {"320": _box(0, 0, 500, 10)}},
        {"id": "#wide > p", "parent": "#wide", "kind": "text", "boxes": {"320": _box(0, 0, 500, 10)}},
        {"id": "#carousel-item", "scroller": True, "boxes": {"320": _box(300, 20, 200, 10)}},
    ])
    assert [(f["check"], f["nodes"]) for f in found] == [("horizontal_overflow", ["#wide"]), ("reflow", ["#wide"])]


def test_target_size_spacing_exception_and_inline_links() -> None:
    found = _graph([
        {"id": "#a", "kind": "interactive", "boxes": {"1280": _box(0, 0, 20, 20)}},
        {"id": "#b", "kind": "interactive", "boxes": {"1280": _box(30, 0, 20, 20)}},  # centres 30 px apart: ok
        {"id": "#c", "kind": "interactive", "boxes": {"1280": _box(100, 0, 20, 20)}},
        {"id": "#d", "kind": "interactive", "boxes": {"1280": _box(121, 0, 40, 40)}},  # #c's circle hits #d
        {"id": "#e", "kind": "interactive", "inline": True, "boxes": {"1280": _box(300, 0, 10, 10)}},
    ])
    assert [f["nodes"] for f in found if f["check"] == "target_size"] == [["#c"]]


def test_clipped_text_and_touching_boxes() -> None:
    found = _graph([
        {"id": "#t", "kind": "text", "boxes": {"768": _box(0, 0, 100, 20)}, "content": {"768": {"w": 180, "h": 20}}},
        {"id": "#x", "kind": "interactive", "boxes": {"768": _box(0, 100, 50, 30)}},
        {"id": "#y", "kind": "interactive", "boxes": {"768": _box(50, 100, 50, 30)}},  # touching is not overlapping
    ])
    assert [(f["check"], f["nodes"]) for f in found] == [("clipped_text", ["#t"])]


def test_field_p75_is_nearest_rank_and_routes_survive_redacted_hosts() -> None:
    from studio.audits.field import judge, p75, route_of

    assert p75([1, 2, 3, 4]) == 3 and p75([5]) == 5 and p75(list(range(1, 101))) == 75
    assert route_of({"url": "http://[REDACTED:IP_ADDRESS]:8080/shop/item?id=[REDACTED:EMAIL]#top"}) == "/shop/item"
    assert route_of({"canonical_url": "https://a.example", "url": "https://a.example/x"}) == "/"
    assert judge({"INP": [150, 250, 300, 100]})["INP"] == {"p75": 250, "samples": 4, "threshold": 200, "good": False}
