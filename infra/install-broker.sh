#!/usr/bin/env bash
# Debian's redis-server, the real broker the realtime broker tests run against (decision 0075:
# Memorystore for Redis deployed). Installed once; a no-op when present. Debian 12 ships Redis 7.0
# (valkey-server arrives with Debian 13): the wire protocol and the commands used are the same.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1 || command -v valkey-server >/dev/null 2>&1; then
  exit 0
fi
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  # The package starts a system service on port 6379; the tests start their own servers on free ports.
  (systemctl disable --now redis-server 2>/dev/null || service redis-server stop 2>/dev/null) || true
else
  echo "redis-server is missing: install it (sudo apt-get install redis-server)" >&2
  exit 1
fi
