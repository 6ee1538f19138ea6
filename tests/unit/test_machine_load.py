"""bench/machine_load.py on this machine's real /proc: a child that spins shows up as our CPU, the
windows cover the sampled span, and others' CPU is weighted by the kernel's table."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from bench.machine_load import LoadSampler, LoadTrace, Window, descendants, weight

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")


def test_a_spinning_child_is_counted_as_ours() -> None:
    with LoadSampler(period_s=0.05) as trace:
        spin = "import time\nwhile time.process_time() < 0.5: pass"  # 0.5 s of CPU, however long that takes
        child = subprocess.Popen([sys.executable, "-c", spin])
        time.sleep(0.2)
        assert {os.getpid(), child.pid} <= descendants(os.getpid())
        child.wait()
    assert trace.windows, "no window sampled"
    start, end = trace.windows[0].start, trace.windows[-1].end
    assert end - start == pytest.approx(sum(w.seconds for w in trace.windows), rel=0.01)
    ours, _others, steal = trace.between(start, end)
    # the child's 0.5 s of CPU, less a few 10 ms ticks: the first and last windows each cut one off
    # (0.449 s was seen in a full run), and the last window may end before the child's final tick is read
    assert ours * (end - start) >= 0.4
    assert 0 <= steal <= trace.cores


def test_others_take_cores_by_their_weight_against_ours() -> None:
    assert weight(0) == 1024 and weight(-15) == 29154 and weight(19) == 15
    trace = LoadTrace(cores=2, our_nice=-15, urgent_share=0.25, others_weight=1024 / 29154)
    window = Window(0.0, 1.0, ours=0.5, others=1.2, steal=0.1)
    # A quarter of the others' 1.2 cores was as urgent as us (half of it taken from us: equal weights),
    # the rest by weight: 1,024 / (1,024 + 29,154).
    assert trace.taken(window) == pytest.approx(0.1 + 1.2 * (0.25 * 0.5 + 0.75 * 1024 / (1024 + 29154)))
