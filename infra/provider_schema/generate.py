"""Generate infra/provider_schema/google.json: the Google provider's argument and block names.

The PyPI package ``cdktn-provider-google`` ships a ``.jsii`` assembly (inside
``_jsii/provider-google@<v>.jsii.tgz``) describing every resource's and data source's
config struct, generated from the provider's own schema. This script reads it and keeps,
for the resource and data-source types that terraform/*.tf uses (plus any named with
``--type``), only what the schema lint needs: argument names, required arguments and
nested blocks (recursively). jsii names are camelCase; each property's doc carries the
registry anchor (``.../docs/resources/<type>#<snake_name>``), which gives the Terraform
name back exactly (``buildAttribute`` -> ``build``); a plain camel -> snake conversion is
the fallback for the few properties without one.

A one-off, needs the network (or a wheel already downloaded)::

    .venv/bin/python -m infra.provider_schema.generate            # pip download into a tmp dir
    .venv/bin/python -m infra.provider_schema.generate --wheel /tmp/cdktn_provider_google-21.1.0-py3-none-any.whl

The schema lint (tests/infra/test_terraform.py) reads only the committed JSON.
"""
from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import hcl2

REPO = Path(__file__).resolve().parents[2]
OUT = Path(__file__).with_name("google.json")
PACKAGE, VERSION = "cdktn-provider-google", "21.1.0"
_CLASS_DOC = re.compile(r"docs/(resources|data-sources)/(\w+) (google_\w+)\}")
_ANCHOR = re.compile(r"docs/(?:resources|data-sources)/\w+#(\w+)")
_PROVIDER_VERSION = re.compile(r"providers/hashicorp/google/([0-9.]+)/docs")


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def load_assembly(wheel: Path) -> dict[str, Any]:
    with zipfile.ZipFile(wheel) as whl:
        tgz = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
        with tarfile.open(fileobj=io.BytesIO(whl.read(tgz)), mode="r:gz") as tar:
            member = tar.extractfile("package/.jsii")
            if member is None:
                raise SystemExit(f"no package/.jsii in {tgz}")
            return json.load(member)


def download_wheel(into: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", f"{PACKAGE}=={VERSION}",
                    "-d", str(into)], check=True)
    return next(into.glob("cdktn_provider_google-*.whl"))


def used_types(tf_dir: Path) -> tuple[set[str], set[str]]:
    """(resource types, data source types) that the .tf files in ``tf_dir`` declare."""
    resources: set[str] = set()
    data: set[str] = set()
    for path in sorted(tf_dir.rglob("*.tf")):  # modules/ too
        doc = hcl2.loads(path.read_text())
        for block in doc.get("resource", []):
            resources.update(k.strip('"') for k in block)
        for block in doc.get("data", []):
            data.update(k.strip('"') for k in block)
    return {t for t in resources if t.startswith("google_")}, {t for t in data if t.startswith("google_")}


def _struct_fqn(type_ref: dict[str, Any], types: dict[str, Any]) -> str | None:
    """The struct behind a property that Terraform writes as a block, else None."""
    if "fqn" in type_ref:
        target = types.get(type_ref["fqn"])
        return type_ref["fqn"] if target and target.get("datatype") else None
    if "collection" in type_ref and type_ref["collection"]["kind"] == "array":
        return _struct_fqn(type_ref["collection"]["elementtype"], types)
    if "union" in type_ref:
        for option in type_ref["union"]["types"]:
            found = _struct_fqn(option, types)
            if found:
                return found
    return None


def _tf_name(prop: dict[str, Any]) -> str:
    docs = prop.get("docs", {})
    match = _ANCHOR.search(docs.get("remarks", "") + " " + docs.get("summary", ""))
    return match.group(1) if match else snake(prop["name"])


def describe(fqn: str, types: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """{"arguments": [...], "required": [...], "blocks": {name: {...}}} for one config struct."""
    if depth > 12:
        raise SystemExit(f"nesting too deep at {fqn}")
    arguments: list[str] = []
    required: list[str] = []
    blocks: dict[str, Any] = {}
    for prop in types[fqn].get("properties", []):
        name = _tf_name(prop)
        struct = _struct_fqn(prop["type"], types)
        if struct:
            blocks[name] = describe(struct, types, depth + 1)
        else:
            arguments.append(name)
        if not prop.get("optional"):
            required.append(name)
    out: dict[str, Any] = {"arguments": sorted(arguments)}
    if required:
        out["required"] = sorted(required)
    if blocks:
        out["blocks"] = dict(sorted(blocks.items()))
    return out


def index(assembly: dict[str, Any]) -> tuple[dict[str, str], dict[str, str], str]:
    """(resource type -> config fqn, data source type -> config fqn, provider version)."""
    resources: dict[str, str] = {}
    data: dict[str, str] = {}
    version = ""
    for klass in assembly["types"].values():
        if klass.get("kind") != "class":
            continue
        summary = klass.get("docs", {}).get("summary", "")
        match = _CLASS_DOC.search(summary)
        if not match:
            continue
        version = version or (_PROVIDER_VERSION.search(summary) or [None, ""])[1]
        params = klass.get("initializer", {}).get("parameters", [])
        config = next((p["type"]["fqn"] for p in params if p["name"] == "config" and "fqn" in p["type"]), None)
        if config:
            (resources if match.group(1) == "resources" else data)[match.group(3)] = config
    return resources, data, version


def generate(wheel: Path, extra_types: list[str], tf_dir: Path) -> dict[str, Any]:
    assembly = load_assembly(wheel)
    types = assembly["types"]
    resource_index, data_index, provider_version = index(assembly)
    want_resources, want_data = used_types(tf_dir)
    for name in extra_types:
        (want_data if name.startswith("data.") else want_resources).add(name.removeprefix("data."))
    missing = sorted(want_resources - resource_index.keys()) + sorted(
        f"data.{t}" for t in want_data - data_index.keys())
    if missing:
        raise SystemExit(f"not in {PACKAGE} {VERSION}: {', '.join(missing)}")
    return {
        "generator": "infra/provider_schema/generate.py",
        "source": f"{PACKAGE}=={VERSION} (.jsii)",
        "provider": {"source": "hashicorp/google", "version": provider_version},
        "meta_arguments": ["count", "depends_on", "for_each", "lifecycle", "provider", "provisioner",
                           "connection"],
        "resources": {t: describe(resource_index[t], types) for t in sorted(want_resources)},
        "data_sources": {t: describe(data_index[t], types) for t in sorted(want_data)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wheel", type=Path, help=f"a downloaded {PACKAGE} wheel (default: pip download it)")
    parser.add_argument("--type", action="append", default=[], dest="types",
                        help="also include this resource type (data.<type> for a data source)")
    parser.add_argument("--terraform-dir", type=Path, default=REPO / "terraform")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(Path(tmp))
        schema = generate(wheel, args.types, args.terraform_dir)
    args.out.write_text(json.dumps(schema, indent=1, sort_keys=False) + "\n")
    print(f"wrote {args.out} ({len(schema['resources'])} resources, {len(schema['data_sources'])} data sources)")


if __name__ == "__main__":
    main()
