"""Debian's Chromium as every browser test launches it (Playwright with executable_path): where it is,
and the flags that keep it off this machine's closed network (no background fetches, no QUIC)."""
from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
