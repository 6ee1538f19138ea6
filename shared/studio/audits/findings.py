"""A browser run turned into stored findings: accessibility, performance against budget, layout."""
from __future__ import annotations

from collections import Counter
from typing import Any

from studio.audits import budgets, layout_checks, wcag

MAX_NODES_PER_RULE = 20
MAX_SNIPPET = 300


def accessibility(axe: dict[str, Any]) -> dict[str, Any]:
    """violations, incomplete and passes with WCAG SCs and EN 301 549 clauses; incomplete -> manual checklist."""
    out: dict[str, Any] = {"engine": f"axe-core {axe.get('testEngine', {}).get('version', '?')}"}
    for kind in ("violations", "incomplete", "passes"):
        out[kind] = [_rule(r, with_nodes=kind != "passes") for r in axe.get(kind, [])]
    out["manual_checklist"] = [{"key": f"axe:{r['rule']}", "rule": r["rule"], "question": r["help"],
                                "sc": r["sc"], "clauses": r["clauses"], "nodes": len(r["nodes"])}
                               for r in out["incomplete"]]
    return out


def _rule(rule: dict[str, Any], with_nodes: bool) -> dict[str, Any]:
    tags = rule.get("tags", [])
    scs = wcag.criteria_from_tags(tags)
    nodes = [{"selector": " ".join(str(t) for t in n.get("target", [])),
              "snippet": str(n.get("html", ""))[:MAX_SNIPPET],
              "failure_summary": str(n.get("failureSummary") or "")[:1000]}
             for n in rule.get("nodes", [])[:MAX_NODES_PER_RULE]] if with_nodes else []
    return {"rule": rule["id"], "impact": rule.get("impact"), "help": rule.get("help", ""),
            "help_url": rule.get("helpUrl", ""), "sc": scs, "clauses": wcag.clauses_for(scs, tags),
            "tags": tags, "nodes": nodes, "node_count": len(rule.get("nodes", []))}


def performance(metrics: dict[str, Any], budget_list: list[dict[str, Any]], url: str) -> dict[str, Any]:
    chosen = budgets.matching_budget(budget_list, url)
    lines = budgets.judge(chosen, metrics) if chosen is not None else []
    return {"lab": metrics, "budget_path": None if chosen is None else chosen.get("path"),
            "budget": lines, "over_budget": sum(1 for line in lines if line["over"])}


def layout(per_breakpoint: dict[int, list[dict[str, Any]]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the layout graph the page measured to, its findings): the same checks as POST /layouts/validate."""
    graph = graph_of(per_breakpoint)
    bps, nodes = layout_checks.parse_graph(graph)
    found = layout_checks.check_layout(bps, nodes)
    boxes = {n["id"]: n["boxes"] for n in graph["nodes"]}
    for f in found:  # what the console outlines on each breakpoint's screenshot
        bp = f["breakpoint"]
        f["boxes"] = [boxes[i].get(str(bp)) for i in f["nodes"]] if bp is not None else []
    return graph, {"findings": found, "counts": dict(Counter(f["check"] for f in found)), "nodes": len(nodes)}


def graph_of(per_breakpoint: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    merged: dict[str, dict[str, Any]] = {}
    for bp, entries in sorted(per_breakpoint.items()):
        for e in entries:
            node = merged.setdefault(e["id"], {"id": e["id"], "kind": e["kind"], "parent": e["parent"],
                                               "inline": e["inline"], "scroller": e["scroller"],
                                               "boxes": {}, "content": {}})
            node["boxes"][str(bp)] = e["box"]
            if e.get("content"):
                node["content"][str(bp)] = e["content"]
    for node in merged.values():  # not in the page at a width at all: not rendered there
        for bp in per_breakpoint:
            node["boxes"].setdefault(str(bp), None)
    return {"breakpoints": sorted(per_breakpoint), "nodes": list(merged.values())}


def summary(result: dict[str, Any]) -> dict[str, Any]:
    a, p, lay = result.get("accessibility"), result.get("performance"), result.get("layout")
    out: dict[str, Any] = {}
    if a is not None:
        out |= {"violations": len(a["violations"]), "incomplete": len(a["incomplete"]), "passes": len(a["passes"])}
    if p is not None:
        out |= {"over_budget": p["over_budget"], "lcp_ms": p["lab"].get("lcp_ms"), "cls": p["lab"].get("cls")}
    if lay is not None:
        out |= {"layout_findings": len(lay["findings"])}
    return out
