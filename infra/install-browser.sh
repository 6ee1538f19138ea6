#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright drives it with executable_path; its own
# browser download cannot work offline). Installed once; a no-op when present.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "chromium is missing: install it (sudo apt-get install chromium)" >&2
  exit 1
fi
