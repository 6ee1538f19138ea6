#!/usr/bin/env bash
# Debian's ffmpeg (ffmpeg + ffprobe, with libx264, AAC and the loudnorm filter) for the media
# functions: probing uploads, video proxies and posters, loudness normalisation. Installed once;
# a no-op when present.
set -euo pipefail
if command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; then
  exit 0
fi
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null
else
  echo "ffmpeg is missing: install it (sudo apt-get install ffmpeg)" >&2
  exit 1
fi
