"""Schema lint: every resource and data source in terraform/*.tf against the Google
provider's schema (infra/provider_schema/google.json, made by ``generate.py``).

It walks each block with python-hcl2 and reports, with the file and the block path:
an argument or nested block the provider does not have, an argument written as a block
(or the reverse), a required argument or block that is missing, and a ``google_*`` type
absent from the JSON (regenerate it). ``dynamic "<name>"`` blocks are checked as the block
they generate. Meta-arguments (count, for_each, depends_on, provider, lifecycle ...) are
Terraform's and always allowed.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2

SCHEMA = Path(__file__).with_name("google.json")
_DYNAMIC_KEYS = {"for_each", "iterator", "labels", "content"}


def load_schema(path: Path = SCHEMA) -> dict[str, Any]:
    return json.loads(path.read_text())


def _unquote(label: str) -> str:
    return label[1:-1] if len(label) >= 2 and label[0] == label[-1] == '"' else label


def _is_block_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, dict) and v.get("__is_block__") for v in value)


def declared(tf_dir: Path) -> Iterator[tuple[str, str, str, str, dict[str, Any]]]:
    """(file, "resource"|"data", type, name, body) for every resource and data block."""
    for path in sorted(tf_dir.rglob("*.tf")):  # modules/ too
        doc = hcl2.loads(path.read_text())
        for kind in ("resource", "data"):
            for entry in doc.get(kind, []):
                for rtype, named in entry.items():
                    for name, body in named.items():
                        yield str(path.relative_to(tf_dir)), kind, _unquote(rtype), _unquote(name), body


def _check_body(body: dict[str, Any], node: dict[str, Any], where: str, meta: set[str]) -> list[str]:
    problems: list[str] = []
    arguments = set(node.get("arguments", []))
    blocks: dict[str, Any] = node.get("blocks", {})
    present: set[str] = set()
    for key, value in body.items():
        if key.startswith("__") or key in meta:
            continue
        if key == "dynamic":
            for dyn in value:
                for label, dyn_body in dyn.items():
                    block = _unquote(label)
                    present.add(block)
                    if block not in blocks:
                        problems.append(f"{where}: dynamic block {block!r} is not a block of this schema")
                        continue
                    extra = {k for k in dyn_body if not k.startswith("__")} - _DYNAMIC_KEYS
                    if extra or "content" not in dyn_body:
                        problems.append(f"{where}.dynamic.{block}: needs for_each + content, has {sorted(extra)}")
                    for content in dyn_body.get("content", []):
                        problems += _check_body(content, blocks[block], f"{where}.{block}", set())
            continue
        present.add(key)
        if key in blocks:
            if not _is_block_list(value):
                problems.append(f"{where}: {key!r} is a block, written as an argument")
                continue
            for item in value:
                problems += _check_body(item, blocks[key], f"{where}.{key}", set())
        elif key in arguments:
            if _is_block_list(value):
                problems.append(f"{where}: {key!r} is an argument, written as a block")
        else:
            problems.append(f"{where}: unknown argument or block {key!r}")
    for required in node.get("required", []):
        if required not in present:
            problems.append(f"{where}: missing required {required!r}")
    return problems


def lint(tf_dir: Path, schema: dict[str, Any] | None = None) -> list[str]:
    schema = schema or load_schema()
    meta = set(schema["meta_arguments"])
    problems: list[str] = []
    for file, kind, rtype, name, body in declared(tf_dir):
        if not rtype.startswith("google_"):
            problems.append(f"{file}: {kind} {rtype}.{name}: only the google provider is in the schema")
            continue
        table = schema["resources"] if kind == "resource" else schema["data_sources"]
        if rtype not in table:
            problems.append(f"{file}: {kind} {rtype} is not in google.json: run "
                            "`python -m infra.provider_schema.generate`")
            continue
        prefix = "data." if kind == "data" else ""
        problems += _check_body(body, table[rtype], f"{file}: {prefix}{rtype}.{name}", meta)
    return problems


if __name__ == "__main__":
    import sys

    found = lint(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "terraform")
    print("\n".join(found) or "schema lint: no problems")
    sys.exit(1 if found else 0)
