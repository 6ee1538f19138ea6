"""Each function's deployable zip works on its own: built by infra/packaging/build_zips.py,
extracted, and run in a clean venv that holds only that function's requirements.txt, the
entrypoint is imported the way Cloud Functions does it and answers a request.

The venvs are the slow part: one per distinct requirements set, cached under
.venv-packaging/<hash of the requirements> so a rerun starts at once (pip's cache makes
even the first run mostly a matter of unpacking wheels).
"""
from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from infra.localrun import manifest as manifest_mod
from infra.packaging import build_zips
from infra.packaging.requirements import requirements_for
from tests.infra.tools import packaging_venv

pytestmark = pytest.mark.slow
SPECS = {spec.name: spec for spec in manifest_mod.load().functions}
PROBE = Path(__file__).with_name("packaging_probe.py")


@pytest.fixture(scope="module")
def zips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_zips.build_all(tmp_path_factory.mktemp("zips"))


def test_zips_are_reproducible_and_self_contained(zips: dict[str, Path], tmp_path: Path) -> None:
    assert set(zips) == set(SPECS)
    again = build_zips.build_all(tmp_path)
    for name, path in zips.items():
        assert build_zips.md5(path) == build_zips.md5(again[name]), f"{name}: zip is not reproducible"
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            assert {"main.py", "requirements.txt", "studio/__init__.py", "studio/bootstrap.py"} <= names
            assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
            assert archive.read("requirements.txt").decode() == requirements_for(SPECS[name])


@pytest.mark.parametrize("name", sorted(SPECS))
def test_function_answers_from_its_zip_in_a_clean_venv(name: str, zips: dict[str, Path], tmp_path: Path) -> None:
    spec = SPECS[name]
    app_dir = tmp_path / "app"
    with zipfile.ZipFile(zips[name]) as archive:
        archive.extractall(app_dir)
    venv = packaging_venv((app_dir / "requirements.txt").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "STUDIO_", "FUNCTION_", "GOOGLE_"))}
    env.update(STUDIO_DATA_DIR=str(tmp_path / "data"), STUDIO_ADAPTERS="embedded")
    route = spec.routes[0] if spec.routes else ""
    target = spec.topic if spec.kind != "http" else ""
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-I", str(PROBE), name, spec.kind, spec.entrypoint, target, route],
        cwd=app_dir, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, f"{name} failed from its zip:\n{result.stderr[-4000:]}"
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["studio"] == "studio/__init__.py"  # the vendored copy, not the repo's
    if spec.kind == "http":
        assert answer["healthz"] == 200, answer
        assert answer["route"] < 500, answer  # loading the routers needs only the zip's requirements
    else:
        assert 200 <= answer.get("status", 200) < 300 or "handled_error" in answer, answer
