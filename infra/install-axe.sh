#!/usr/bin/env bash
# axe-core for the audit worker, at the version pinned in infra/axe/package-lock.json, into
# infra/axe/node_modules (git-ignored). Run by `make serve` and `make test`; a no-op when current.
set -euo pipefail
here="$(cd "$(dirname "$0")/axe" && pwd)"
if [ -f "$here/node_modules/axe-core/axe.min.js" ] && [ "$here/node_modules/.package-lock.json" -nt "$here/package-lock.json" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "npm is missing: install Node.js (sudo apt-get install nodejs npm)" >&2; exit 1; }
npm ci --prefix "$here" --no-audit --no-fund --ignore-scripts >/dev/null
