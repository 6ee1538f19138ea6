"""What else the machine did while a benchmark round ran: the interference a simulation of the
round must carry as an input (bench/fleet_sim.py), measured rather than fitted.

A sampler thread reads ``/proc/stat`` (the machine's busy and steal time) and the CPU time of
this process and all its descendants (the gateways, the poster) every ``period_s``. Per window:
the cores our processes used, the cores everything else used (other sessions, the kernel's
threads) and the cores the hypervisor stole. At the start and the end it also scans every
process once, to split the others' CPU by scheduling priority: a process as urgent as ours
(nice <= ours) takes its fair share of a core from us when both want it, a nicer one takes
only its weight's share (sched_prio_to_weight: nice 0 against nice -15 is 1,024 : 29,154).

Linux only; the figures are clock ticks (USER_HZ, 10 ms), so a window is a few ticks wide and
the trace is meant for windows of 50 ms and up.
"""
from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HZ = os.sysconf("SC_CLK_TCK")
# The kernel's sched_prio_to_weight, nice -20..19: a runnable task's share is its weight over the sum.
_WEIGHTS = (88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916, 9548, 7620, 6100, 4904, 3906,
            3121, 2501, 1991, 1586, 1277, 1024, 820, 655, 526, 423, 335, 272, 215, 172, 137, 110, 87, 70, 56, 45,
            36, 29, 23, 18, 15)


def weight(nice: int) -> int:
    return _WEIGHTS[max(-20, min(19, nice)) + 20]


def _machine_ticks() -> tuple[int, int]:
    """(busy, steal) ticks of all CPUs since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return user + nice + system + irq + softirq, steal


def autogroups() -> bool:
    """With autogroups on, each session is a task group: the scheduler shares a core between groups
    by the group's nice (``/proc/<pid>/autogroup``), and a process's own nice counts only within
    its group. So a nice -15 bench still gets no more than an equal share against a busy terminal."""
    try:
        return Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1"
    except OSError:
        return False


def autogroup_nice(pid: int | str = "self") -> int | None:
    try:
        return int(Path(f"/proc/{pid}/autogroup").read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


def set_autogroup_nice(nice: int) -> None:
    Path("/proc/self/autogroup").write_text(str(nice))


_GROUPS = autogroups()


def effective_nice(pid: int | str = "self") -> int:
    """The nice that decides this process's share against another session's: its group's when
    autogroups are on, its own otherwise."""
    if autogroups() and (nice := autogroup_nice(pid)) is not None:
        return nice
    return os.getpriority(os.PRIO_PROCESS, 0 if pid == "self" else int(pid))


def _proc_stat(pid: int) -> tuple[int, int] | None:
    """(user + system ticks, nice) of a process (all its threads), or None if it is gone. The nice is
    its autogroup's when autogroups are on (see ``autogroups``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    nice = int(fields[16])
    if _GROUPS and (group := autogroup_nice(pid)) is not None:
        nice = group
    return int(fields[11]) + int(fields[12]), nice


def descendants(root: int) -> set[int]:
    """``root`` and every process below it (via /proc/<pid>/task/<tid>/children)."""
    found, todo = {root}, [root]
    while todo:
        pid = todo.pop()
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except (FileNotFoundError, ProcessLookupError):
            continue
        for task in tasks:
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
            for kid in kids:
                if kid not in found:
                    found.add(kid)
                    todo.append(kid)
    return found


def _all_processes() -> dict[int, tuple[int, int]]:
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _proc_stat(int(entry.name))) is not None:
            out[int(entry.name)] = stat
    return out


@dataclass
class Window:
    start: float  # wall clock (time.time), comparable to the round's post stamps
    end: float
    ours: float  # cores used by this process and its descendants
    others: float  # cores used by everything else
    steal: float  # cores the hypervisor took

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class LoadTrace:
    cores: int
    our_nice: int
    windows: list[Window] = field(default_factory=list)
    urgent_share: float = 0.0  # of the others' CPU over the round, the part at nice <= ours
    others_weight: float = 0.0  # the nicer part's weight relative to ours (e.g. 1,024 / 29,154)
    pauses: list[list[tuple[float, float]]] = field(default_factory=list)  # per gateway: GC stalls (start, s)
    placement: list[int] = field(default_factory=list)  # the core of each gateway, then of the client (if pinned)

    def between(self, start: float, end: float) -> tuple[float, float, float]:
        """Mean (ours, others, steal) cores over [start, end]."""
        totals, span = [0.0, 0.0, 0.0], 0.0
        for w in self.windows:
            overlap = min(w.end, end) - max(w.start, start)
            if overlap > 0:
                span += overlap
                for i, value in enumerate((w.ours, w.others, w.steal)):
                    totals[i] += value * overlap
        return (totals[0] / span, totals[1] / span, totals[2] / span) if span else (0.0, 0.0, 0.0)

    def taken(self, window: Window) -> float:
        """Cores of this window not available to our processes when they want them: the steal, and of
        what the others used, the share a runnable task of theirs takes from one of ours on a core both
        want (its weight over both weights): half for a task as urgent as ours, 1,024 / 30,178 for a
        nice 0 one against our -15. What they used while ours were idle cost us nothing."""
        urgent = self.urgent_share * 0.5
        nicer = (1 - self.urgent_share) * self.others_weight / (1 + self.others_weight)
        return window.steal + window.others * (urgent + nicer)


class LoadSampler:
    """``with LoadSampler() as trace:`` samples until the block ends."""

    def __init__(self, period_s: float = 0.05) -> None:
        self.period_s = period_s
        self.root = os.getpid()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load-sampler", daemon=True)
        self.trace = LoadTrace(cores=len(os.sched_getaffinity(0)), our_nice=effective_nice())
        self._before: dict[int, tuple[int, int]] = {}

    def __enter__(self) -> LoadTrace:
        self._before = _all_processes()
        self._thread.start()
        return self.trace

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._split_by_priority(_all_processes())

    def _ours_ticks(self, last: dict[int, int], pids: set[int]) -> int:
        """Ticks our processes used since the last sample (a process seen for the first time counts
        from zero: the poster is born during the round; one that exited keeps its last count)."""
        used = 0
        for pid in pids:
            stat = _proc_stat(pid)
            if stat is not None:
                used += stat[0] - last.get(pid, stat[0] if pid in self._before else 0)
                last[pid] = stat[0]
        return used

    def _run(self) -> None:
        last: dict[int, int] = {pid: stat[0] for pid, stat in self._before.items()}
        busy0, steal0 = _machine_ticks()
        t0 = time.time()
        pids: set[int] = set()
        for n in itertools.count():
            if self._stop.wait(self.period_s):
                break
            if n % 10 == 0:  # walking the process tree costs more than a sample: twice a second is enough
                pids = descendants(self.root)
            busy, steal = _machine_ticks()
            ours = self._ours_ticks(last, pids)
            now = time.time()
            span = (now - t0) * HZ
            if span > 0:
                self.trace.windows.append(Window(t0, now, ours / span, max(busy - busy0 - ours, 0) / span,
                                                 (steal - steal0) / span))
            busy0, steal0, t0 = busy, steal, now

    def _split_by_priority(self, after: dict[int, tuple[int, int]]) -> None:
        ours = descendants(self.root)
        urgent = nicer = 0.0
        weighted = 0.0
        mine = weight(self.trace.our_nice)
        for pid, (ticks, nice) in after.items():
            if pid in ours or pid not in self._before:
                continue
            used = ticks - self._before[pid][0]
            if used <= 0:
                continue
            if nice <= self.trace.our_nice:
                urgent += used
            else:
                nicer += used
                weighted += used * weight(nice) / mine
        total = urgent + nicer
        self.trace.urgent_share = urgent / total if total else 0.0
        self.trace.others_weight = weighted / nicer if nicer else 0.0


URGENT_NICE = -15


@contextmanager
def urgent(nice_to: int = URGENT_NICE) -> Iterator[None]:
    """As root, run this bench (and the processes it starts, which inherit it) ahead of other
    sessions' work: nice -15, and the same for its session's autogroup, without which the nice
    counts only against our own processes (autogroups). Restored afterwards. What
    the others still take is measured (bench/py) and given to the simulation."""
    nice, group = os.getpriority(os.PRIO_PROCESS, 0), autogroup_nice()
    raised_nice = raised_group = False
    if os.geteuid() == 0:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, min(nice, nice_to))
            raised_nice = True
            if group is not None and autogroups():
                set_autogroup_nice(min(group, nice_to))
                raised_group = True
        except OSError as exc:  # a container without CAP_SYS_NICE: measured as it is, and said so
            print(f"  (could not take priority: {exc}; other sessions' load weighs more)", flush=True)
    try:
        yield
    finally:
        if raised_nice:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
        if raised_group and group is not None:
            set_autogroup_nice(group)
