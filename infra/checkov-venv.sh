#!/usr/bin/env bash
# Creates (once) the virtualenv that holds checkov, apart from .venv: checkov's
# bc-python-hcl2 and the tests' python-hcl2 both install a top-level `hcl2` package.
# Idempotent: a venv whose stamp matches the pinned version is reused as it is.
# Usage: bash infra/checkov-venv.sh [VENV_DIR]   (default .venv-checkov); prints the checkov path.
set -euo pipefail
CHECKOV_VERSION="3.3.30"
cd "$(dirname "$0")/.."
venv="${1:-.venv-checkov}"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
stamp="$venv/.installed-checkov-$CHECKOV_VERSION"
if [ ! -f "$stamp" ]; then
  if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    else
      echo "python3-venv is missing: install it (sudo apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "checkov==$CHECKOV_VERSION" >&2
  touch "$stamp"
fi
echo "$venv/bin/checkov"
