"""POST /layouts/validate (static, no browser) agrees with the browser's layout checks on pages built
from the same boxes: every element placed at its box per breakpoint by an exact-width media query."""
from __future__ import annotations

import random
import time
from typing import Any

import pytest

from tests.integration.test_audits_api import audit

pytestmark = pytest.mark.slow
BPS = [320, 768, 1280]
TAGS = {"interactive": "button", "text": "p", "box": "div"}


def designed_graph() -> dict[str, Any]:
    def node(i: str, kind: str, boxes: dict[int, tuple[int, int, int, int] | None]) -> dict[str, Any]:
        return {"id": f"#{i}", "kind": kind,
                "boxes": {str(bp): None if b is None else dict(zip("xywh", b, strict=True)) for bp, b in boxes.items()}}

    everywhere = lambda box: {bp: box for bp in BPS}  # noqa: E731 - a table helper
    return {"breakpoints": BPS, "nodes": [
        node("wide", "box", {320: (200, 40, 200, 30), 768: (200, 40, 200, 30), 1280: (200, 40, 200, 30)}),
        node("buy", "interactive", everywhere((20, 120, 100, 40))),
        node("save", "interactive", everywhere((80, 130, 100, 40))),
        node("tiny", "interactive", everywhere((20, 300, 16, 16))),
        node("tiny2", "interactive", everywhere((40, 300, 16, 16))),
        node("lonely", "interactive", everywhere((200, 400, 16, 16))),  # small, but its spacing is enough
        node("promo", "text", {320: None, 768: (20, 500, 200, 30), 1280: (20, 500, 200, 30)}),
        node("fine", "text", everywhere((20, 600, 120, 30))),
    ]}


def random_graph(seed: int, count: int, height: int = 650) -> dict[str, Any]:
    rng = random.Random(seed)
    nodes = []
    for i in range(count):
        kind = rng.choice(["interactive", "interactive", "text", "box"])
        boxes: dict[str, Any] = {}
        for bp in BPS:
            if rng.random() < 0.1:
                boxes[str(bp)] = None
                continue
            w, h = rng.choice([12, 20, 30, 60, 150]), rng.choice([12, 20, 30, 44])
            boxes[str(bp)] = {"x": rng.randrange(0, bp - 10), "y": rng.randrange(0, height), "w": w, "h": h}
        nodes.append({"id": f"#r{i}", "kind": kind, "boxes": boxes})
    return {"breakpoints": BPS, "nodes": nodes}


def page_of(graph: dict[str, Any]) -> str:
    css = ["*{box-sizing:border-box;margin:0;padding:0;border:0;font-size:10px;line-height:1}",
           "body{position:relative;min-height:700px}", "[data-n]{position:absolute;overflow:visible}"]
    for bp in BPS:
        rules = []
        for n in graph["nodes"]:
            b = n["boxes"].get(str(bp))
            rules.append(f"{n['id']}{{display:none}}" if b is None else
                         f"{n['id']}{{display:block;left:{b['x']}px;top:{b['y']}px;width:{b['w']}px;height:{b['h']}px}}")
        css.append(f"@media (width: {bp}px){{{''.join(rules)}}}")
    body = "".join(f'<{TAGS[n["kind"]]} data-n id="{n["id"][1:]}">{"t" if n["kind"] == "text" else ""}'
                   f'</{TAGS[n["kind"]]}>' for n in graph["nodes"])
    return f"<!doctype html><html lang=en><head><style>{''.join(css)}</style></head><body>{body}</body></html>"


def keyed(findings: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(f["check"], f["breakpoint"], tuple(f["nodes"])) for f in findings}


@pytest.mark.parametrize("graph", [designed_graph(), random_graph(7, 40)], ids=["designed", "random"])
def test_static_checks_agree_with_the_browser(client, platform, owner, tenant, graph) -> None:  # noqa: ANN001
    r = client.post("/layouts/validate", json=graph, headers=owner.in_tenant(tenant))
    assert r.status_code == 200, r.text
    static = keyed(r.json()["findings"])
    result = audit(client, platform, owner, tenant, html=page_of(graph), kinds=["layout"], breakpoints=BPS)
    assert result["status"] == "done", result
    browser = keyed(result["layout"]["findings"])
    assert static == browser
    assert static  # the graphs do contain findings


def test_designed_graph_findings(client, owner, tenant) -> None:  # noqa: ANN001
    r = client.post("/layouts/validate", json=designed_graph(), headers=owner.in_tenant(tenant))
    found = keyed(r.json()["findings"])
    assert ("horizontal_overflow", 320, ("#wide",)) in found
    assert ("reflow", 320, ("#wide",)) in found
    assert ("horizontal_overflow", 768, ("#wide",)) not in found
    assert ("overlap", 1280, ("#buy", "#save")) in found
    assert ("target_size", 320, ("#tiny",)) in found and ("target_size", 320, ("#tiny2",)) in found
    assert not any(f[0] == "target_size" and f[2] == ("#lonely",) for f in found)  # spacing exception
    assert ("disappears", None, ("#promo",)) in found
    assert not any("#fine" in f[2] for f in found)


def test_a_thousand_nodes_in_under_50_ms(client, owner, tenant) -> None:  # noqa: ANN001
    graph = random_graph(11, 1_000, height=30_000)  # a long page: 1,000 elements down eight widths
    from studio.audits import layout_checks

    bps, nodes = layout_checks.parse_graph(graph)
    best = min(_timed(lambda: layout_checks.check_layout(bps, nodes)) for _ in range(15))  # best of: a shared machine
    assert best < 0.050, f"{best * 1000:.1f} ms"
    r = client.post("/layouts/validate", json=graph, headers=owner.in_tenant(tenant))
    assert r.status_code == 200 and r.json()["nodes"] == 1_000


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


@pytest.mark.parametrize("graph", [
    {"nodes": [{"id": "#a", "boxes": {"320": {"x": "NaN", "y": 0, "w": 1, "h": 1}}}]},
    '{"nodes": [{"id": "#a", "boxes": {"320": {"x": 1e309, "y": 0, "w": 1, "h": 1}}}]}',
    '{"nodes": [{"id": "#a", "boxes": {"320": {"x": 0, "y": 0, "w": 1, "h": 1}}}], "breakpoints": [1e400]}',
    {"nodes": [{"id": "#a", "boxes": {"320": {"x": 0, "y": 0, "w": -1, "h": 1}}}]},
    {"nodes": [{"id": "#a", "boxes": {"abc": {"x": 0, "y": 0, "w": 1, "h": 1}}}]},
    {"nodes": [{"id": "#a", "kind": "widget", "boxes": {}}]},
    {"nodes": "many"},
])
def test_bad_graphs_are_problems(client, owner, tenant, graph) -> None:  # noqa: ANN001
    headers = owner.in_tenant(tenant) | {"Content-Type": "application/json"}
    r = client.post("/layouts/validate", **({"content": graph} if isinstance(graph, str) else {"json": graph}),
                    headers=headers)
    assert r.status_code in (400, 422), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
