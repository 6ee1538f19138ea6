"""pyproject.toml's import contracts place every part of the library, so nothing escapes them.

One ``layers`` contract orders the whole library (decision 0028). These tests check its shape
against the library and the domain registry, and that import-linter really refuses a new package
nobody placed and a domain importing an adapter.
"""
from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

import studio
from studio import domains

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
EDGE = {"bootstrap", "adapters"}  # the only layers that may import a Google client


def _contracts() -> list[dict[str, Any]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    return list(config["contracts"])


def _layers() -> list[set[str]]:
    """The layers contract, highest first, each layer as the set of its modules."""
    (contract,) = [c for c in _contracts() if c["type"] == "layers"]
    assert contract["containers"] == ["studio"] and contract["exhaustive"] is True
    out = []
    for layer in contract["layers"]:
        assert ":" not in layer, f"{layer!r}: siblings in one layer must be independent ('|')"
        out.append({name.strip() for name in layer.split("|")})
    return out


def _children() -> set[str]:
    return {m.name for m in pkgutil.iter_modules(studio.__path__)}


def test_there_is_one_layers_contract_and_it_places_every_module_and_package_once() -> None:
    placed = [name for layer in _layers() for name in layer]
    assert len(placed) == len(set(placed)), "a module sits in two layers"
    assert set(placed) == _children()


def test_every_registered_domain_is_a_layer_between_the_adapters_and_the_kernel() -> None:
    names = _layers()
    top = next(i for i, layer in enumerate(names) if "adapters" in layer)
    bottom = next(i for i, layer in enumerate(names) if "kernel" in layer)
    band = set().union(*names[top + 1:bottom])
    assert band == {row.name for row in domains.DOMAINS}


def test_only_the_edge_may_import_a_google_client() -> None:
    (contract,) = [c for c in _contracts() if c["type"] == "forbidden" and c["forbidden_modules"] == ["google"]]
    sources = {m.removeprefix("studio.") for m in contract["source_modules"]}
    assert sources == _children() - EDGE


def test_there_is_an_acyclic_rule_over_the_whole_library() -> None:
    (contract,) = [c for c in _contracts() if c["type"] == "acyclic_siblings"]
    assert contract["ancestors"] == ["studio"] and "depth" not in contract  # every level (default depth 10)


def _lint(shared: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env={"PYTHONPATH": str(shared), "PATH": ""},
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def copy_of_the_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("layering")
    shutil.copytree(REPO / "shared" / "studio", root / "shared" / "studio",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def test_a_new_package_nobody_placed_and_a_domain_importing_an_adapter_are_refused(copy_of_the_library: Path) -> None:
    studio_dir = copy_of_the_library / "shared" / "studio"
    media = studio_dir / "unplaced"  # (a real domain's name once was the example: media is placed now)
    media.mkdir()
    (media / "__init__.py").write_text("")
    (studio_dir / "chat" / "leak.py").write_text("from studio.adapters import sqlite_store\n")
    try:
        result = _lint(copy_of_the_library / "shared", copy_of_the_library)
    finally:
        shutil.rmtree(media)
        (studio_dir / "chat" / "leak.py").unlink()
    assert result.returncode != 0
    assert "- studio.unplaced" in result.stdout  # "not listed as layers"
    assert "studio.chat is not allowed to import studio.adapters" in result.stdout
