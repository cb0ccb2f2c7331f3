"""What the benchmark reads from ``/proc`` (Linux): CPU seconds and memory of a process, machine load, machine facts.

No psutil: ``/proc/<pid>/stat`` gives user + system CPU time, ``/proc/<pid>/status`` the resident set and its peak
(``VmHWM``), ``/proc/stat`` the whole machine's CPU time (to tell how busy the machine was with other work) and
``/proc/loadavg`` the load average.
"""

from __future__ import annotations

import os
import platform
import resource
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far; 0 when it is gone."""
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14 and 15 of stat)


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def memory_mib(pid: int) -> dict[str, float]:
    """``rss`` and ``peak_rss`` (VmRSS, VmHWM) in MiB; empty when the process is gone."""
    try:
        lines = (PROC / str(pid) / "status").read_text().splitlines()
    except OSError:
        return {}
    found = {}
    for line in lines:
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found["rss" if name == "VmRSS" else "peak_rss"] = int(value.split()[0]) / 1024
    return found


def parent_of(pid: int) -> int | None:
    try:
        return int((PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def child_running(parent: int, needle: str) -> int | None:
    """The pid of a child of ``parent`` whose command line contains ``needle`` (e.g. a broker started by a
    library that keeps its process handle to itself)."""
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or parent_of(int(entry.name)) != parent:
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if needle in command:
            return int(entry.name)
    return None


@dataclass(frozen=True, slots=True)
class MachineTimes:
    """Whole-machine CPU time since boot, in seconds summed over cores."""

    busy: float
    steal: float

    @staticmethod
    def now() -> MachineTimes:
        values = [int(v) for v in (PROC / "stat").read_text().splitlines()[0].split()[1:]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (values + [0] * 8)[:8]
        return MachineTimes((user + nice + system + irq + softirq) / _TICKS, steal / _TICKS)


def load_average() -> tuple[float, float, float]:
    one, five, fifteen = (float(v) for v in (PROC / "loadavg").read_text().split()[:3])
    return one, five, fifteen


def machine() -> dict[str, object]:
    """Cores, memory, CPU model, kernel and Python of this machine."""
    model = ""
    try:
        for line in (PROC / "cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_kib = 0
    try:
        for line in (PROC / "meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "cpu_model": model or platform.processor(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
    }
