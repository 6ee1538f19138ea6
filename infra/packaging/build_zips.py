"""Build each manifest function's deployable zip: what Cloud Functions gen2 builds from.

A zip holds the function's folder (``main.py`` and anything beside it), its pinned
``requirements.txt`` (generated from the manifest extras: ``infra.packaging.requirements``)
and the library ``shared/studio`` copied in as ``studio/``, so ``import studio`` works with
nothing else on ``sys.path``. Zips are byte-for-byte reproducible (sorted entries, fixed
timestamps and modes): the same sources give the same MD5, which Terraform puts in the
object name, so only a function whose zip changed is redeployed.

    python -m infra.packaging.build_zips [--out dist/functions] [--manifest functions/manifest.yaml]
"""
from __future__ import annotations

import argparse
import hashlib
import zipfile
from collections.abc import Iterator
from pathlib import Path

from infra.localrun import manifest as manifest_mod
from infra.packaging.requirements import requirements_for

REPO = manifest_mod.REPO
LIBRARY = REPO / "shared" / "studio"
DEFAULT_OUT = REPO / "dist" / "functions"
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "tests"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in _SKIP_DIRS or part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.suffix not in _SKIP_SUFFIXES:
            yield path


def entries(spec: manifest_mod.FunctionSpec) -> dict[str, bytes]:
    """Archive name -> content, for one function."""
    folder = spec.source.parent
    out: dict[str, bytes] = {}
    for path in _files(folder):
        out[path.relative_to(folder).as_posix()] = path.read_bytes()
    out["requirements.txt"] = requirements_for(spec).encode()
    for path in _files(LIBRARY):
        name = "studio/" + path.relative_to(LIBRARY).as_posix()
        if name in out:
            raise ValueError(f"{spec.name}: {name} in the function folder would shadow the library")
        out[name] = path.read_bytes()
    if "main.py" not in out:
        raise ValueError(f"{spec.name}: no main.py in {folder}")
    return out


def build_zip(spec: manifest_mod.FunctionSpec, out_dir: Path = DEFAULT_OUT) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{spec.name}.zip"
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in sorted(entries(spec).items()):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    tmp.replace(target)
    return target


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def build_all(out_dir: Path = DEFAULT_OUT, manifest_path: Path = manifest_mod.MANIFEST) -> dict[str, Path]:
    built = {spec.name: build_zip(spec, out_dir) for spec in manifest_mod.load(manifest_path).functions}
    for stale in out_dir.glob("*.zip"):  # a function removed from the manifest
        if stale.stem not in built:
            stale.unlink()
    return built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--manifest", type=Path, default=manifest_mod.MANIFEST)
    args = parser.parse_args()
    for name, path in build_all(args.out, args.manifest).items():
        print(f"{name:28} {md5(path)}  {path.stat().st_size:>9} B  {path}")


if __name__ == "__main__":
    main()
