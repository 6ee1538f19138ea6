#!/usr/bin/env bash
# Creates the virtualenv and installs the pinned dependencies. On a fresh Debian
# machine `python3 -m venv` needs the python3-venv package: install it when missing.
set -euo pipefail
venv="${1:-.venv}"
python="${PYTHON:-python3}"
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
  else
    echo "python3-venv is missing: install it (sudo apt-get install python3-venv)" >&2
    exit 1
  fi
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r requirements-dev.txt
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -r shared/requirements/llm-local.txt
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -r shared/requirements/nexus-local.txt
