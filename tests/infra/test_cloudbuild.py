"""cloudbuild.yaml: valid for Cloud Build (its published schema), and the pipeline the
runbook describes: test, package, init/plan/apply per environment, apply only when asked."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.infra.tools import REPO

CLOUDBUILD = REPO / "cloudbuild.yaml"
# Substitutions Cloud Build provides itself.
_BUILTIN = {"PROJECT_ID", "PROJECT_NUMBER", "BUILD_ID", "LOCATION", "TRIGGER_NAME", "COMMIT_SHA", "SHORT_SHA",
            "REVISION_ID", "REPO_NAME", "REPO_FULL_NAME", "BRANCH_NAME", "TAG_NAME", "REF_NAME",
            "TRIGGER_BUILD_CONFIG_PATH", "SERVICE_ACCOUNT_EMAIL", "SERVICE_ACCOUNT"}


def test_cloudbuild_yaml_matches_the_cloud_build_schema() -> None:
    checker = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run([str(checker), "--builtin-schema", "vendor.cloudbuild", str(CLOUDBUILD)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pipeline_tests_packages_plans_and_applies_only_when_asked() -> None:
    build = yaml.safe_load(CLOUDBUILD.read_text())
    steps = {step["id"]: step for step in build["steps"]}
    order = [s for s in steps if s in ("test", "package", "realtime-image", "init", "plan", "apply")]
    assert order == ["test", "package", "realtime-image", "init", "plan", "apply"]
    assert "make test" in " ".join(steps["test"]["args"])
    assert "infra.packaging.build_zips" in " ".join(steps["package"]["args"])
    assert "-backend-config=bucket=${_TF_STATE_BUCKET}" in steps["init"]["args"]
    plan = " ".join(steps["plan"]["args"])
    assert "realtime_image=$$(cat /workspace/realtime_image)" in plan
    for var in ("-var=environment=${_ENV}", "-var=project=${PROJECT_ID}", "-var=region=${_REGION}"):
        assert var in plan
    apply = " ".join(steps["apply"]["args"])
    assert 'if [ "${_APPLY}" != "true" ]' in apply and "apply -input=false" in apply
    assert build["substitutions"]["_APPLY"] == "false"  # plan-only unless the trigger says otherwise
    assert build["options"]["logging"]


def test_every_substitution_used_is_declared() -> None:
    text = CLOUDBUILD.read_text()
    declared = set(yaml.safe_load(text)["substitutions"])
    used = set(re.findall(r"(?<!\$)\$\{?(_[A-Z0-9_]+|[A-Z][A-Z_]+)\}?", text))
    assert used - declared - _BUILTIN == set()


def _plan_arguments(substitutions: dict[str, str], tmp_path: Path) -> list[str]:
    """The plan step's script run by sh as Cloud Build runs it (``${_X}`` substituted, ``$$`` -> ``$``),
    with ``terraform`` replaced by a stub that prints its arguments one per line."""
    build = yaml.safe_load(CLOUDBUILD.read_text())
    script = next(s for s in build["steps"] if s["id"] == "plan")["args"][-1]
    values = {**build["substitutions"], "PROJECT_ID": "p", **substitutions}
    script = re.sub(r"(?<!\$)\$\{(_[A-Z0-9_]+|[A-Z_]+)\}", lambda m: values[m.group(1)], script).replace("$$", "$")
    stub = tmp_path / "terraform"
    stub.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
    stub.chmod(0o755)
    (tmp_path / "*").write_text("a file a glob would find")
    result = subprocess.run(["sh", "-c", script.replace("/workspace/realtime_image", "/dev/null")], cwd=tmp_path,
                            env={"PATH": f"{tmp_path}:/usr/bin:/bin"}, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_cors_origins_reach_the_plan_as_a_list(tmp_path: Path) -> None:
    import json

    def origins(value: str) -> list[str]:
        arg = next(a for a in _plan_arguments({"_CORS_ORIGINS": value}, tmp_path) if a.startswith("-var=cors_origins="))
        return list(json.loads(arg.removeprefix("-var=cors_origins=")))

    assert origins("") == []
    assert origins("https://app.example.com") == ["https://app.example.com"]
    assert origins("https://app.example.com  http://localhost:* *") == [
        "https://app.example.com", "http://localhost:*", "*"]
