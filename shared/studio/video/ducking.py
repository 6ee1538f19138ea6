"""Ducking in the audio mix (decision 0091): while the key track sounds, the ducked track is exactly
``db`` decibels quieter, reached with the given attack and let go with the given release.

A compressor's gain reduction is ``(L - T) * (1 - 1/ratio)`` for a key level ``L`` above the threshold
``T``: it follows the key's loudness, so no fixed threshold and ratio give "N dB" for a key whose level
moves. The key is therefore first pinned to one level: amplified by ``KEY_GAIN_DB`` and hard-clipped at
full scale, a key whose peaks pass ``SOUNDING_DBFS`` becomes a near-square wave that reads 0 dBFS to the
detector (whose attack smooths ``|x|``: a sine clipped by 20 dB or more averages within 0.2 dB of full
scale), and digital silence stays silence. With ``L = 0`` the threshold is solved from ``N``:  ``T = -N / (1 - 1/ratio)`` dBFS, at the
compressor's largest ratio and narrowest knee, so the reduction is ``N`` whatever the key's loudness.
The pinned copy only drives the detector (padded with silence past its end, or the compressor would
stop the ducked track where the key stops); the key itself is mixed untouched.
"""
from __future__ import annotations

from studio.video.timeline import Ducking

KEY_GAIN_DB = 80
SOUNDING_DBFS = -60.0  # a key peaking above this ducks by exactly N (20 dB of clipping); -80..-60: partly
RATIO = 20.0  # sidechaincompress's maximum: the least threshold for a given reduction
MIN_THRESHOLD_DB = -60.0  # sidechaincompress's floor (0.000976563)


def _num(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".") or "0"


def threshold_db(db: float) -> float:
    """The compressor threshold that reduces a 0 dBFS key's target by exactly ``db``."""
    return max(MIN_THRESHOLD_DB, -db / (1 - 1 / RATIO))


def duck(ducked: str, key: str, out: str, settings: Ducking) -> list[str]:
    """Graph lines: ``[ducked]`` compressed by ``[key]``'s activity, into ``[out]``; ``[key]`` is consumed."""
    threshold = 10 ** (threshold_db(settings.db) / 20)
    # apad: sidechaincompress stops at its shorter input; a key that ends first must not cut the music
    return [f"[{key}]volume={KEY_GAIN_DB}dB,asoftclip=type=hard:threshold=1,apad[{key}_pin]",
            f"[{ducked}][{key}_pin]sidechaincompress=threshold={threshold:.6f}:ratio={_num(RATIO)}:knee=1:"
            f"makeup=1:detection=peak:link=maximum:attack={_num(settings.attack_ms)}:"
            f"release={_num(settings.release_ms)}[{out}]"]
