"""Audio: loudness normalised to -16 LUFS integrated and -1 dBTP true peak with ffmpeg's
``loudnorm`` in two passes (measure, then apply the measured values linearly), and the result
measured again so the stored "after" is what the file holds, not what the filter aimed at."""
from __future__ import annotations

import json
import os
import re
import tempfile
from typing import Any

from studio.media import binaries
from studio.media.images import Rendered

TARGET = {"I": -16.0, "TP": -1.0, "LRA": 11.0}
_JSON_TAIL = re.compile(rb"\{[^{}]*\}\s*$")


def _filter(extra: str = "") -> str:
    return f"loudnorm=I={TARGET['I']}:TP={TARGET['TP']}:LRA={TARGET['LRA']}{extra}:print_format=json"


def measure(path: str) -> dict[str, float]:
    """Integrated loudness, true peak, loudness range and threshold, as loudnorm measures them."""
    done = binaries.run([binaries.binary("ffmpeg"), "-nostdin", "-hide_banner", "-i", path, "-af", _filter(),
                      "-f", "null", "-"])
    found = _JSON_TAIL.search(done.stderr.strip())
    if found is None:
        raise binaries.ToolFailed("loudnorm printed no measurement")
    raw: dict[str, Any] = json.loads(found.group(0))
    return {"input_i": float(raw["input_i"]), "input_tp": float(raw["input_tp"]),
            "input_lra": float(raw["input_lra"]), "input_thresh": float(raw["input_thresh"]),
            "target_offset": float(raw["target_offset"])}


def normalise(src_path: str) -> Rendered:
    before = measure(src_path)
    if before["input_i"] == float("-inf"):
        raise binaries.ToolFailed("silence: nothing to normalise")
    measured = (f":measured_I={before['input_i']}:measured_TP={before['input_tp']}:measured_LRA={before['input_lra']}"
                f":measured_thresh={before['input_thresh']}:offset={before['target_offset']}:linear=true")
    with tempfile.TemporaryDirectory(prefix="media-audio-") as tmp:
        out = os.path.join(tmp, "normalized.m4a")
        binaries.run([binaries.binary("ffmpeg"), "-nostdin", "-v", "error", "-y", "-i", src_path, "-vn", "-af", _filter(measured),
                   "-ar", "48000", "-c:a", "aac", "-b:a", "192k", "-map_metadata", "-1", "-movflags", "+faststart", out])
        after = measure(out)
        with open(out, "rb") as fh:
            data = fh.read()
    loudness = {"before": {"integrated_lufs": before["input_i"], "true_peak_dbtp": before["input_tp"],
                           "lra_lu": before["input_lra"]},
                "after": {"integrated_lufs": after["input_i"], "true_peak_dbtp": after["input_tp"],
                          "lra_lu": after["input_lra"]}}
    params = {"filter": "loudnorm", "passes": 2, "target_i_lufs": TARGET["I"], "target_tp_dbtp": TARGET["TP"],
              "target_lra_lu": TARGET["LRA"], "codec": "aac 192k", "sample_rate": 48000}
    return Rendered("normalized_audio", "audio/mp4", "m4a", data, None, None, params, {"loudness": loudness})
