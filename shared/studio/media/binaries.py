"""The ffmpeg and ffprobe binaries, and running them with a time limit.

Debian's ``ffmpeg`` package provides both (infra/install-media-tools.sh installs it for
``make serve`` and ``make test``); ``STUDIO_FFMPEG`` / ``STUDIO_FFPROBE`` point elsewhere.
"""
from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

from studio.kernel import errors

if TYPE_CHECKING:
    import subprocess

TIMEOUT_S = 600  # one ffmpeg run; the asset's processing lease is longer


class ToolFailed(Exception):
    """ffmpeg or ffprobe refused the input: a property of the file, not an outage."""


def binary(name: str) -> str:
    found = os.environ.get(f"STUDIO_{name.upper()}") or shutil.which(name)
    if not found:
        raise errors.Unavailable(f"{name} is not installed (infra/install-media-tools.sh)")
    return found


def run(args: list[str], timeout_s: int = TIMEOUT_S) -> subprocess.CompletedProcess[bytes]:
    """Run a tool; a non-zero exit is ToolFailed with the tail of its stderr."""
    import subprocess  # with the first run, not with the media routes (cold start, decision 0097)

    try:
        done = subprocess.run(args, capture_output=True, timeout=timeout_s, check=False)  # noqa: S603 - fixed argv
    except subprocess.TimeoutExpired:
        raise ToolFailed(f"{os.path.basename(args[0])} took longer than {timeout_s} s") from None
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise ToolFailed(" / ".join(tail) or f"exit {done.returncode}")
    return done
