"""functions/manifest.yaml is the only list of functions: validate it and what derives from it."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infra.localrun import manifest as manifest_mod
from infra.packaging.requirements import requirements_for, requirements_path


def test_manifest_loads_and_every_function_has_its_entrypoint() -> None:
    manifest = manifest_mod.load()
    assert manifest.functions
    for spec in manifest.functions:
        source = spec.source.read_text()
        assert f"def {spec.entrypoint}(" in source, spec.name
        assert ("@functions_framework.http" in source) == (spec.kind == "http"), spec.name


def test_committed_requirements_match_the_extras() -> None:
    for spec in manifest_mod.load().functions:
        assert requirements_path(spec).read_text() == requirements_for(spec), (
            f"{spec.name}: run `python -m infra.packaging.requirements`")


@pytest.mark.parametrize(("patch", "message"), [
    ({"trigger": "cron"}, "trigger"),
    ({"name": "Bad-Name"}, "name"),
    ({"surprise": 1}, "surprise"),
    ({"iam_roles": ["roles/owner"]}, "iam_roles"),  # primitive roles are never granted
    ({"iam_roles": ["roles/editor"]}, "iam_roles"),
    ({"iam_roles": ["firebaseauth.admin"]}, "iam_roles"),
])
def test_bad_manifest_entries_are_refused(tmp_path: Path, patch: dict, message: str) -> None:
    entry = {"name": "ok_fn", "entrypoint": "ok_fn", "trigger": "http", **patch}
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump({"functions": [entry]}))
    with pytest.raises(ValueError, match=message):
        manifest_mod.load(path)


def test_duplicate_route_prefixes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump({"functions": [
        {"name": "a_fn", "entrypoint": "a_fn", "trigger": "http", "routes": ["/x"]},
        {"name": "b_fn", "entrypoint": "b_fn", "trigger": "http", "routes": ["/x"]},
    ]}))
    with pytest.raises(ValueError, match="route prefix"):
        manifest_mod.load(path)
