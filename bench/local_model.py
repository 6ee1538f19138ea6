"""The local model (STUDIO_LLM=local: SmolLM2-135M-Instruct in llama.cpp): load time, time to first
token, decode rate and resident memory, beside the issue's figures (about 0.15 s to the first token,
95 tokens/s and 200 MiB on 2 cores). Reported, not judged: the issue sets figures, not goals.

The model runs in a fresh child process (``python -m bench.local_model --child``) with the default
settings, so the load is a cold one and the resident memory is the model's and the library's alone
(``STUDIO_LOCAL_LLM_THREADS=2 make bench`` measures two threads instead of the default, half the cores).
Each run is one short question (a different one each time, the system prompt the same, as in a chat)
answered with up to ``MAX_TOKENS`` tokens at temperature 0. Time to first token runs from the call to
``stream`` to its first piece; the decode rate is pieces after the first over the time after it (llama.cpp
streams one token per piece, holding back only split UTF-8). Figures are medians over the runs after an
untimed warm-up reply.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import REPO, SHARED
from bench.common import Result, fmt_num, heading, median, result_rows, table

RUNS = 5
MAX_TOKENS = 128
ISSUE_TTFT_S = 0.15
ISSUE_TOKENS_PER_S = 95.0
ISSUE_RSS_MIB = 200.0
SYSTEM = "You are muse, a creative assistant in a studio app. Be concise and helpful."
QUESTIONS = ["Describe a sunrise over the sea.", "Suggest a name for a coffee shop.", "Write a haiku about rain.",
             "Give three tips for a good photo.", "What makes a story exciting?", "Name a colour for a calm room."]


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child() -> dict[str, Any]:
    """Runs in the child: load, warm up, then time ``RUNS`` replies."""
    from studio.bootstrap import Deps
    from studio.config import Settings
    from studio.ports.llm import Turn, text_pieces

    threads = int(os.environ.get("STUDIO_LOCAL_LLM_THREADS", "0"))  # 0: the default, half the cores
    model = Deps(Settings(data_dir=Path(os.environ.get("TMPDIR", "/tmp")), llm_max_tokens=MAX_TOKENS,
                          llm_threads=threads)).llm
    rss_before = _rss_mib()
    started = time.perf_counter()
    engine = model.engine()
    load_s = time.perf_counter() - started
    runs = []
    for question in QUESTIONS[:RUNS + 1]:
        asked = time.perf_counter()
        stamps = [time.perf_counter() for _ in text_pieces(model.stream([Turn("system", SYSTEM), Turn("user", question)],
                                                                        temperature=0))]
        decode_s = stamps[-1] - stamps[0] if len(stamps) > 1 else float("nan")
        runs.append({"ttft_s": stamps[0] - asked, "pieces": len(stamps),
                     "tokens_per_s": (len(stamps) - 1) / decode_s if decode_s > 0 else float("nan")})
    return {"model": model.model, "threads": engine.spec.threads, "cpus": os.cpu_count(), "load_s": load_s,
            "rss_before_mib": rss_before, "rss_mib": _rss_mib(), "warmup": runs[0], "runs": runs[1:]}


def run(verbose: bool = False) -> list[Result]:
    heading(f"local model: load, time to first token, tokens/s, memory ({RUNS} replies of up to {MAX_TOKENS} "
            "tokens, temperature 0, a fresh process)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUDIO_") or k == "STUDIO_LOCAL_LLM_THREADS"}
    env["PYTHONPATH"] = os.pathsep.join([str(SHARED), str(REPO)])
    done = subprocess.run([sys.executable, "-m", "bench.local_model", "--child"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the local model child exited {done.returncode}:\n{done.stderr[-3000:]}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    runs = found["runs"]
    ttft = median([r["ttft_s"] for r in runs])
    rate = median([r["tokens_per_s"] for r in runs])
    rows = [[str(i + 1), fmt_num(r["ttft_s"] * 1000, "ms"), str(r["pieces"]), fmt_num(r["tokens_per_s"], "tok/s")]
            for i, r in enumerate(runs)]
    print(f"  {found['model']} on {found['threads']} thread(s) of {found['cpus']} cores; load "
          f"{fmt_num(found['load_s'], 's')}; warm-up reply: first token after "
          f"{fmt_num(found['warmup']['ttft_s'] * 1000, 'ms')}", flush=True)
    print(table(["reply", "first token", "pieces", "decode rate"], rows), flush=True)
    note = "higher is better: the ratio is the share of the issue's figure"
    results = [
        Result("local_model", "model load (import + read GGUF)", found["load_s"], "s", None, "", None),
        Result("local_model", "time to first token (p50)", ttft, "s", ISSUE_TTFT_S, "issue's figure", None),
        Result("local_model", "decode rate (p50)", rate, "tok/s", ISSUE_TOKENS_PER_S, "issue's figure", None, note),
        Result("local_model", "resident memory after the replies", found["rss_mib"], "MiB", ISSUE_RSS_MIB,
               "issue's figure", None, extra={"before_load_mib": found["rss_before_mib"]}),
    ]
    print(result_rows(results), flush=True)
    print(f"  {note} (decode rate); resident memory includes the library "
          f"({fmt_num(found['rss_before_mib'], 'MiB')} before the load)", flush=True)
    return results


if __name__ == "__main__":
    if "--child" in sys.argv:
        print(json.dumps(child()), flush=True)
    else:
        run()
