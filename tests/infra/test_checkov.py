"""checkov over terraform/: no failed check, no parse error, and every skip says why.

checkov lives in its own venv (infra/checkov-venv.sh; its bc-python-hcl2 would clash with
python-hcl2 in .venv). The first run creates it (~30 s from a warm pip cache); later runs
reuse it. checkov exits 0 on a file it cannot parse, so parse errors are read from the JSON.
"""
from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.infra.tools import REPO, TERRAFORM_DIR, tools_venv

pytestmark = pytest.mark.slow
_SKIP = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?")


@pytest.fixture(scope="module")
def report() -> dict:
    checkov = tools_venv() / "bin" / "checkov"
    result = subprocess.run(
        [str(checkov), "-d", "terraform", "--framework", "terraform", "--skip-download", "--quiet", "--compact",
         "-o", "json"],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert result.stdout.strip(), f"checkov printed no report (exit {result.returncode}):\n{result.stderr[-3000:]}"
    data = json.loads(result.stdout)
    reports = data if isinstance(data, list) else [data]
    assert [r.get("check_type") for r in reports] == ["terraform"], result.stdout[:500]
    return reports[0]


def test_checkov_parses_every_file(report: dict) -> None:
    assert report["summary"]["parsing_errors"] == 0, report["results"].get("parsing_errors")
    assert report["summary"]["resource_count"] > 0


def test_checkov_finds_no_failed_check(report: dict) -> None:
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
              for c in report["results"].get("failed_checks", [])]
    assert not failed, "\n".join(failed)


def test_every_checkov_skip_states_its_reason() -> None:
    skips = [(path.name, m.group(1), (m.group(2) or "").strip())
             for path in sorted(TERRAFORM_DIR.rglob("*.tf")) for m in _SKIP.finditer(path.read_text())]
    for file, check, reason in skips:
        assert len(reason) >= 20, f"{file}: checkov:skip={check} needs a reason after ':'"
