"""The static site graph from the SEO page configs and their declared links and CTAs (E18).

Nodes are page paths; edges are ``links`` and CTA targets that are paths of this site (an absolute
URL leaves the site and is not checked). Entries are the pages marked ``entry`` (or ``/`` when none
is). Breadth-first search from every entry gives each page's depth in clicks.
"""
from __future__ import annotations

from collections import deque
from typing import Any


def analyse(pages: list[dict[str, Any]], max_clicks: int) -> dict[str, Any]:
    by_path = {p["path"]: p for p in pages}
    internal = {path: [t for t in [*p.get("links", []), *(c["target"] for c in p.get("ctas", []))] if t.startswith("/")]
                for path, p in by_path.items()}
    entries = sorted(p for p, page in by_path.items() if page.get("entry")) or (["/"] if "/" in by_path else [])
    depth: dict[str, int] = {e: 0 for e in entries}
    queue = deque(entries)
    while queue:
        here = queue.popleft()
        for target in internal.get(here, []):
            if target in by_path and target not in depth:
                depth[target] = depth[here] + 1
                queue.append(target)
    inbound: set[str] = {t for src, targets in internal.items() for t in targets if t != src}
    broken_links = [{"page": path, "cta_id": "", "target": t} for path, p in sorted(by_path.items())
                    for t in p.get("links", []) if t not in by_path]
    broken_ctas = [{"page": path, "cta_id": c["id"], "target": c["target"]} for path, p in sorted(by_path.items())
                   for c in p.get("ctas", []) if c["target"].startswith("/") and c["target"] not in by_path]
    return {
        "pages": [{"surface": p["surface"], "page_type": p["page_type"], "path": path, "depth": depth.get(path)}
                  for path, p in sorted(by_path.items())],
        "entries": entries,
        "orphans": sorted(p for p in by_path if p not in inbound and p not in entries),
        "dead_ends": sorted(p for p, targets in internal.items() if not any(t in by_path for t in targets)),
        "unreachable": sorted(p for p in by_path if depth.get(p) is None or depth[p] > max_clicks),
        "broken_links": broken_links,
        "broken_ctas": broken_ctas,
    }
