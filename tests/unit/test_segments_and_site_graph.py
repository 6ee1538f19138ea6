"""Segment conditions (MongoDB-style operators) and the static site graph of the SEO page configs."""
from __future__ import annotations

import pytest

from studio.analytics import conditions
from studio.analytics.site_graph import analyse
from studio.kernel import errors

CTX = {"signals": {"views": 5, "plan": "pro", "bought": False, "ltv": None}, "attributes": {"country": "DE"}}


@pytest.mark.parametrize(("condition", "expected"), [
    ({}, True),
    ({"signals.views": 5}, True),
    ({"signals.views": {"$gte": 5, "$lt": 6}}, True),
    ({"signals.views": {"$gt": 5}}, False),
    ({"signals.plan": {"$in": ["pro", "team"]}}, True),
    ({"signals.plan": {"$nin": ["pro"]}}, False),
    ({"signals.ltv": {"$exists": True}}, False),
    ({"signals.missing": {"$exists": False}}, True),
    ({"signals.missing": {"$gt": 0}}, False),  # a missing value never compares
    ({"signals.plan": {"$gt": 3}}, False),  # nor does a string with a number
    ({"$or": [{"attributes.country": "FR"}, {"signals.bought": False}]}, True),
    ({"$and": [{"attributes.country": "DE"}, {"$not": {"signals.views": {"$lt": 3}}}]}, True),
    ({"$nor": [{"attributes.country": "DE"}]}, False),
])
def test_conditions(condition: dict, expected: bool) -> None:
    conditions.check(condition)
    assert conditions.evaluate(condition, CTX) is expected


@pytest.mark.parametrize("bad", [
    {"signals.views": {"$regex": "x"}}, {"$where": "1"}, {"views": 1}, {"$or": []}, {"$or": {"a": 1}},
    {"signals.plan": {"$in": "pro"}}, [], {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {
        "$not": {"$not": {"signals.a": 1}}}}}}}}}},
])
def test_invalid_conditions_are_refused(bad: object) -> None:
    with pytest.raises(errors.StudioError) as exc:
        conditions.check(bad)
    assert exc.value.code.code == "SEGMENT_INVALID"


def _page(path: str, links: list[str] = (), ctas: list[tuple[str, str]] = (), entry: bool = False) -> dict:
    return {"surface": "web", "page_type": path.strip("/") or "home", "path": path, "links": list(links),
            "ctas": [{"id": i, "target": t} for i, t in ctas], "entry": entry}


def test_site_graph() -> None:
    pages = [
        _page("/", ["/pricing", "/blog"], entry=True),
        _page("/pricing", ["/signup"], [("buy", "/checkout"), ("docs", "https://docs.example")]),
        _page("/signup", ["/step2"]),
        _page("/step2", ["/step3"]),
        _page("/step3", []),  # dead end, 4 clicks deep
        _page("/blog", ["/gone"]),  # a link to a page with no config: dead end too
        _page("/legacy", ["/"]),  # nobody links here
    ]
    graph = analyse(pages, max_clicks=3)
    assert graph["entries"] == ["/"]
    assert graph["orphans"] == ["/legacy"]
    assert graph["dead_ends"] == ["/blog", "/step3"]
    assert graph["unreachable"] == ["/legacy", "/step3"]
    assert graph["broken_ctas"] == [{"page": "/pricing", "cta_id": "buy", "target": "/checkout"}]
    assert graph["broken_links"] == [{"page": "/blog", "cta_id": "", "target": "/gone"}]
    assert {p["path"]: p["depth"] for p in graph["pages"]}["/step3"] == 4


def test_without_marked_entries_the_home_page_is_the_entry() -> None:
    graph = analyse([_page("/", ["/a"]), _page("/a")], max_clicks=1)
    assert graph["entries"] == ["/"] and graph["unreachable"] == []
