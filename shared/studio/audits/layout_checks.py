"""Layout checks over a layout graph: nodes with one box per breakpoint, no browser needed.

The same functions judge a rendered page: the worker measures the page at each breakpoint into this
graph (``browser.py``) and calls ``check_layout``, so a static graph and a page built from the same
boxes get the same findings by construction (tests/integration/test_audit_layout_agreement.py holds it).

A graph: ``{"breakpoints": [320, ...], "nodes": [{"id", "kind": "interactive"|"text"|"box", "boxes":
{"320": {"x","y","w","h"} | null}, "content": {"320": {"w","h"}}, "inline": bool, "scroller": bool}]}``.
Boxes are CSS px in page coordinates; a missing or empty box means not rendered at that width.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

BREAKPOINTS: tuple[int, ...] = (320, 375, 414, 768, 1024, 1280, 1440, 1920)
MIN_TARGET = 24.0  # WCAG 2.2 SC 2.5.8, CSS px
TOLERANCE = 0.5  # sub-pixel rounding is not a finding


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def visible(self) -> bool:
        return self.w > 0 and self.h > 0


@dataclass(frozen=True)
class Node:
    id: str  # noqa: A003 - the graph's own field name
    kind: str
    boxes: Mapping[int, Box | None]
    content: Mapping[int, tuple[float, float]]
    inline: bool = False
    scroller: bool = False  # inside a horizontally scrolling container: may extend past the viewport
    parent: str | None = None  # a child reports nothing its parent already reports (the parent is named)


def parse_graph(graph: Mapping[str, Any]) -> tuple[tuple[int, ...], list[Node]]:
    """(breakpoints, nodes) of a validated graph dict (models.LayoutGraph.model_dump())."""
    nodes: list[Node] = []
    seen: set[int] = set()
    for raw in graph["nodes"]:
        boxes: dict[int, Box | None] = {}
        for bp, box in raw.get("boxes", {}).items():
            boxes[int(bp)] = None if box is None else Box(box["x"], box["y"], box["w"], box["h"])
            seen.add(int(bp))
        content = {int(bp): (c["w"], c["h"]) for bp, c in (raw.get("content") or {}).items() if c is not None}
        nodes.append(Node(raw["id"], raw.get("kind", "box"), boxes, content, bool(raw.get("inline")),
                          bool(raw.get("scroller")), raw.get("parent")))
    breakpoints = tuple(sorted(graph.get("breakpoints") or seen))
    return breakpoints, nodes


def check_layout(breakpoints: Sequence[int], nodes: Sequence[Node]) -> list[dict[str, Any]]:
    """Every finding of the graph, in a stable order: check, breakpoint, node ids, WCAG SC, detail."""
    findings: list[dict[str, Any]] = []
    for bp in breakpoints:
        shown = [(n, b) for n in nodes if (b := n.boxes.get(bp)) is not None and b.visible()]
        over = _overflowing(bp, shown)
        findings += [_finding("horizontal_overflow", bp, [n.id], None,
                              f"{n.id} spans {b.x:.0f}..{b.right:.0f} px in a {bp} px viewport") for n, b in over]
        if bp == 320 and over:
            findings.append(_finding("reflow", bp, sorted(n.id for n, _ in over), "1.4.10",
                                     "content needs horizontal scrolling at 320 CSS px"))
        targets = [(n, b) for n, b in shown if n.kind == "interactive"]
        grid = _grid(targets)
        findings += [_finding("overlap", bp, [a, b], None, f"{a} and {b} overlap")
                     for a, b in _overlaps(targets, grid)]
        findings += [_finding("target_size", bp, [n.id], "2.5.8",
                              f"{n.id} is {b.w:.0f}x{b.h:.0f} px, under 24x24, without the spacing exception")
                     for n, b in _small_targets(targets, grid)]
        findings += [_finding("clipped_text", bp, [n.id], "1.4.4", f"{n.id} clips its text") for n, b in shown
                     if n.kind == "text" and bp in n.content and (n.content[bp][0] > b.w + 1 or n.content[bp][1] > b.h + 1)]
    findings += _disappearing(breakpoints, nodes)
    return findings


def _finding(check: str, bp: int | None, node_ids: list[str], sc: str | None, detail: str) -> dict[str, Any]:
    return {"check": check, "breakpoint": bp, "nodes": node_ids, "sc": sc, "detail": detail}


def _overflowing(bp: int, shown: Iterable[tuple[Node, Box]]) -> list[tuple[Node, Box]]:
    over = [(n, b) for n, b in shown if not n.scroller and (b.right > bp + TOLERANCE or b.x < -TOLERANCE)]
    named = {n.id for n, _ in over}
    return [(n, b) for n, b in over if n.parent not in named]


CELL = 64.0  # px: the grid that keeps the pair checks near-linear on real pages


def _grid(targets: list[tuple[Node, Box]]) -> dict[tuple[int, int], list[int]]:
    cells: dict[tuple[int, int], list[int]] = {}
    for i, (_, b) in enumerate(targets):
        for key in _cells(b.x, b.y, b.right, b.bottom):
            cells.setdefault(key, []).append(i)
    return cells


def _cells(x0: float, y0: float, x1: float, y1: float) -> list[tuple[int, int]]:
    ys = range(int(y0 // CELL), int(y1 // CELL) + 1)
    return [(cx, cy) for cx in range(int(x0 // CELL), int(x1 // CELL) + 1) for cy in ys]


def _near(targets: list[tuple[Node, Box]], grid: dict[tuple[int, int], list[int]],
          x0: float, y0: float, x1: float, y1: float) -> set[int]:
    return {j for key in _cells(x0, y0, x1, y1) for j in grid.get(key, ())}


def _overlaps(targets: list[tuple[Node, Box]], grid: dict[tuple[int, int], list[int]]) -> list[tuple[str, str]]:
    """Pairs of targets whose boxes intersect by more than rounding."""
    pairs: set[tuple[str, str]] = set()
    for i, (node, box) in enumerate(targets):
        for j in _near(targets, grid, box.x, box.y, box.right, box.bottom):
            if j <= i:
                continue
            other, ob = targets[j]
            if (min(ob.right, box.right) - max(ob.x, box.x) > TOLERANCE
                    and min(ob.bottom, box.bottom) - max(ob.y, box.y) > TOLERANCE):
                a, b = sorted((node.id, other.id))
                pairs.add((a, b))
    return sorted(pairs)


def _small_targets(targets: list[tuple[Node, Box]],
                   grid: dict[tuple[int, int], list[int]]) -> list[tuple[Node, Box]]:
    """Undersized targets whose 24 px circle meets another target or another undersized one's circle."""
    failing: list[tuple[Node, Box]] = []
    for i, (node, box) in enumerate(targets):
        if node.inline or (box.w >= MIN_TARGET and box.h >= MIN_TARGET):
            continue
        cx, cy = box.x + box.w / 2, box.y + box.h / 2
        for j in _near(targets, grid, cx - MIN_TARGET, cy - MIN_TARGET, cx + MIN_TARGET, cy + MIN_TARGET):
            if j == i:
                continue
            other, ob = targets[j]
            if _distance_to_box(cx, cy, ob) < MIN_TARGET / 2 - 1e-9:
                break  # the circle intersects another target
            small = ob.w < MIN_TARGET or ob.h < MIN_TARGET
            if small and not other.inline and math.dist((cx, cy), (ob.x + ob.w / 2, ob.y + ob.h / 2)) < MIN_TARGET - 1e-9:
                break  # two undersized targets' circles intersect
        else:
            continue
        failing.append((node, box))
    return sorted(failing, key=lambda t: t[0].id)


def _distance_to_box(x: float, y: float, box: Box) -> float:
    dx = max(box.x - x, 0.0, x - box.right)
    dy = max(box.y - y, 0.0, y - box.bottom)
    return math.hypot(dx, dy)


def _disappearing(breakpoints: Sequence[int], nodes: Sequence[Node]) -> list[dict[str, Any]]:
    out = []
    gone_at: dict[str, list[int]] = {}
    for n in nodes:
        shown = [bp for bp in breakpoints if (b := n.boxes.get(bp)) is not None and b.visible()]
        gone = [bp for bp in breakpoints if bp not in shown]
        gone_at[n.id] = gone
        if shown and gone and not (n.parent is not None and set(gone) <= set(gone_at.get(n.parent, ()))):
            out.append(_finding("disappears", None, [n.id], None,
                                f"{n.id} is rendered at {shown} px but not at {gone} px") | {"breakpoints": gone})
    return out
