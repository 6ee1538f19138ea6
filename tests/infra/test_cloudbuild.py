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
