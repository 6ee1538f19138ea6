"""What a cold start loads, per HTTP function of functions/manifest.yaml, so a future import cannot
silently undo the cold-start work (decisions 0014, 0081, 0082): in a fresh interpreter, as an instance
starts,

* importing the function's ``main.py`` loads no pydantic, no PyJWT and no cryptography (the health
  route answers before any of them);
* its first authenticated request (the GET the cold-start bench times, with a real token from a
  real data folder) answers 200 without loading PyJWT or cryptography's X.509 and RSA/EC modules, and,
  where that GET validates nothing, without pydantic. The token is checked with the Ed25519 primitive
  alone, and checking it opens no secret store
  (identity's ``GET /auth/me`` reads no secret; media's and fonts' sign blob URLs, so they do).

Timing-free on purpose: the bench measures (bench/cold_start.py); this keeps what it measured.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.cold_start import ISSUER, Caller, Target, prepare_data_dir, targets

REPO = Path(__file__).resolve().parents[2]
NOT_AT_IMPORT = ("pydantic", "pydantic_core", "jwt", "cryptography")
NOT_ON_FIRST_REQUEST = ("jwt", "cryptography.x509", "cryptography.hazmat.primitives.asymmetric.rsa",
                        "cryptography.hazmat.primitives.asymmetric.ec")
SECRET_STORE = ("studio.adapters.local_secrets", "cryptography.hazmat.primitives.ciphers.aead")
# Every function's first authenticated GET loads no pydantic (decisions 0082, 0097): route modules name their
# models (kernel/model_refs.py), a plainly valid query is accepted by its QuerySpec (kernel/query_spec.py),
# video's timeline schema and the command types are served from generated files. A domain module that imports
# its models at the top again, on the way to a first GET, fails here.
# Runs in the child: import main.py, note the modules, make the first authenticated request, note again.
PROBE = """
import importlib.util, json, sys
from werkzeug.test import EnvironBuilder
from flask import Request
source, path, headers = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
spec = importlib.util.spec_from_file_location("main", source)
main = importlib.util.module_from_spec(spec)
spec.loader.exec_module(main)
at_import = sorted(sys.modules)
response = main.app(Request(EnvironBuilder(path=path, headers=headers).get_environ()))
print(json.dumps({"at_import": at_import, "after_request": sorted(sys.modules),
                  "status": response.status_code, "body": response.get_data(as_text=True)[:500]}))
"""

FUNCTIONS = targets()


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Caller]:
    template = tmp_path_factory.mktemp("cold-start") / "template"
    return template, prepare_data_dir(template)


def _loaded(modules: list[str], roots: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == r or m.startswith(r + ".") for r in roots)]


@pytest.mark.parametrize("target", FUNCTIONS, ids=[t.name for t in FUNCTIONS])
def test_a_cold_start_loads_only_what_its_first_request_needs(
        target: Target, prepared: tuple[Path, Caller], tmp_path: Path) -> None:
    template, caller = prepared
    data_dir = tmp_path / "data"
    shutil.copytree(template, data_dir)
    env = {**os.environ, "PYTHONPATH": str(REPO / "shared"), "STUDIO_DATA_DIR": str(data_dir),
           "STUDIO_PUBLIC_URL": ISSUER, "STUDIO_LOG_LEVEL": "WARNING"}
    path = target.real_path.replace("{tenant_id}", caller.tenant_id)
    run = subprocess.run([sys.executable, "-c", PROBE, str(target.source), path, json.dumps(caller.headers)],  # noqa: S603
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["status"] == 200, f"GET {path}: {seen['status']} {seen['body']}"
    assert not _loaded(seen["at_import"], NOT_AT_IMPORT), \
        f"{target.name}'s main.py imports {_loaded(seen['at_import'], NOT_AT_IMPORT)[:5]} at cold start"
    assert not _loaded(seen["after_request"], NOT_ON_FIRST_REQUEST), \
        f"{target.name}'s first authenticated GET loads {_loaded(seen['after_request'], NOT_ON_FIRST_REQUEST)[:5]}"
    assert "studio.identity.eddsa_jwt" in seen["after_request"]  # the token was checked, by the light verifier
    assert not _loaded(seen["after_request"], ("pydantic",)), \
        f"{target.name}'s first authenticated GET imports pydantic again: a route or domain module imports its models?"
    if target.name == "identity":  # GET /auth/me needs no secret: the token check alone opens none
        assert not _loaded(seen["after_request"], SECRET_STORE)


def _probe(target: Target, template: Path, caller: Caller, tmp_path: Path, path: str) -> dict[str, Any]:
    data_dir = tmp_path / "data"
    shutil.copytree(template, data_dir)
    env = {**os.environ, "PYTHONPATH": str(REPO / "shared"), "STUDIO_DATA_DIR": str(data_dir),
           "STUDIO_PUBLIC_URL": ISSUER, "STUDIO_LOG_LEVEL": "WARNING"}
    run = subprocess.run([sys.executable, "-c", PROBE, str(target.source), path, json.dumps(caller.headers)],  # noqa: S603
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    seen: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return seen


WITH_QUERY = [t for t in FUNCTIONS if t.real_path in {"/chat/threads", "/media-v2/assets", "/provenance/entries"}]


@pytest.mark.parametrize("target", WITH_QUERY, ids=[t.name for t in WITH_QUERY])
def test_a_valid_query_needs_no_pydantic_and_a_bad_one_is_still_refused_by_it(
        target: Target, prepared: tuple[Path, Caller], tmp_path: Path) -> None:
    """A first GET with a plainly valid query stays pydantic-free; one with a bad query is judged by the
    model as before (400 VALIDATION_FAILED naming the field), which then loads pydantic."""
    template, caller = prepared
    path = target.real_path.replace("{tenant_id}", caller.tenant_id)
    good = _probe(target, template, caller, tmp_path / "good", path + "?limit=7&page_token=")
    assert good["status"] == 200, good["body"]
    assert not _loaded(good["after_request"], ("pydantic",))
    bad = _probe(target, template, caller, tmp_path / "bad", path + "?limit=%D9%A3")  # Arabic-Indic three
    assert bad["status"] == 400 and '"VALIDATION_FAILED"' in bad["body"] and "query.limit" in bad["body"]
    assert _loaded(bad["after_request"], ("pydantic",))


def test_the_guard_sees_a_heavy_import(prepared: tuple[Path, Caller], tmp_path: Path) -> None:
    """The probe itself can fail: a main.py that imports PyJWT is caught."""
    heavy = tmp_path / "main.py"
    heavy.write_text((REPO / "functions" / "identity" / "main.py").read_text().replace(
        "import functions_framework\n", "import functions_framework\nimport jwt  # noqa: F401\n"))
    template, caller = prepared
    shutil.copytree(template, tmp_path / "data")
    env = {**os.environ, "PYTHONPATH": str(REPO / "shared"), "STUDIO_DATA_DIR": str(tmp_path / "data"),
           "STUDIO_PUBLIC_URL": ISSUER, "STUDIO_LOG_LEVEL": "WARNING"}
    run = subprocess.run([sys.executable, "-c", PROBE, str(heavy), "/auth/me", json.dumps(caller.headers)],  # noqa: S603
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=True)
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["status"] == 200
    assert _loaded(seen["at_import"], NOT_AT_IMPORT) and _loaded(seen["after_request"], NOT_ON_FIRST_REQUEST)
