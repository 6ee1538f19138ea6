"""Each function's pinned requirements.txt, generated from its manifest ``extras``
(dependency groups in shared/requirements/). Run as a module to rewrite them; a test
fails when a committed file drifts from its groups."""
from __future__ import annotations

from pathlib import Path

from infra.localrun import manifest as manifest_mod

GROUPS = manifest_mod.REPO / "shared" / "requirements"
HEADER = "# Generated from functions/manifest.yaml extras by `python -m infra.packaging.requirements`.\n"


def group_lines(group: str) -> list[str]:
    path = GROUPS / f"{group}.txt"
    if not path.exists():
        raise ValueError(f"unknown dependency group {group!r} (no {path.name})")
    return [ln.strip() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]


def requirements_for(spec: manifest_mod.FunctionSpec) -> str:
    # Deployed functions run on the Google adapters, so every one vendors the gcp group.
    groups = ["core", "gcp", *[g for g in spec.extras if g not in ("core", "gcp")]]
    lines: list[str] = []
    for group in groups:
        lines.extend(line for line in group_lines(group) if line not in lines)
    return HEADER + f"# groups: {', '.join(groups)}\n" + "\n".join(lines) + "\n"


def requirements_path(spec: manifest_mod.FunctionSpec) -> Path:
    return spec.source.parent / "requirements.txt"


def main() -> None:
    for spec in manifest_mod.load().functions:
        requirements_path(spec).write_text(requirements_for(spec))
        print("wrote", requirements_path(spec).relative_to(manifest_mod.REPO))


if __name__ == "__main__":
    main()
