"""What the benchmark measures, and how its figures are computed from what came back.

CPU seconds of every process involved between two readings of ``/proc`` (``Meter``), waiting for a phase's outcomes
(``await_outcomes``), and the figures of a phase: throughput over its window, end-to-end latency percentiles,
outcome counts and the most frequent rejection codes; and the description of the generated workload.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections import Counter
from typing import Any

from gateway.bench import procfs
from gateway.bench.driver import Collector, Phase, answered
from gateway.bench.workload import Workload

STALL_S = 60.0  # no new outcome for this long: the scenario is reported incomplete


class Meter:
    """CPU seconds of every process involved, and of the whole machine, between two readings."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self._start = self._read()

    def _read(self) -> dict[str, float]:
        times = procfs.MachineTimes.now()
        found = {name: procfs.cpu_seconds(pid) for name, pid in self._pids.items()}
        found["driver"] = procfs.own_cpu_seconds()
        return found | {"machine": times.busy, "steal": times.steal, "wall": time.monotonic()}

    def stop(self) -> dict[str, float]:
        end = self._read()
        delta = {name: end[name] - self._start[name] for name in end}
        ours = sum(value for name, value in delta.items() if name not in ("machine", "steal", "wall"))
        delta["other"] = max(0.0, delta["machine"] - ours)
        return delta


async def await_outcomes(collector: Collector, count: int) -> bool:
    """Until ``count`` outcomes arrived; False once nothing new came for ``STALL_S``."""
    seen = -1
    while len(collector.phase.outcomes) != seen:
        seen = len(collector.phase.outcomes)
        if await collector.wait_for(count, STALL_S):
            return True
    return False


def throughput(phase: Phase, first_ms: int, count: int, cpu: dict[str, float]) -> dict[str, Any]:
    """The burst's figures: events per second from ``first_ms`` to the last outcome, CPU per 1,000 events."""
    last_ms = max((o.timestamp_ms for o in phase.outcomes), default=first_ms)
    window = max(0.001, (last_ms - first_ms) / 1000)
    done = min(count, len(phase.outcomes))
    per_1000 = {name: round(cpu[name] / done * 1000, 3) if done else None for name in cpu if name not in ("wall",)}
    wall = cpu["wall"]
    return {
        "throughput_eps": round(done / window, 1),
        "window_s": round(window, 3),
        "cpu_s_per_1000": per_1000.pop("system"),
        "cpu_s_per_1000_others": per_1000,
        "cores_busy": {name: round(cpu[name] / wall, 2) for name in cpu if name != "wall"},
        "saturated_latency_ms": latencies(phase),
        "outcomes": outcome_counts(phase),
    }


def latencies(phase: Phase) -> dict[str, float | int | None]:
    """End-to-end latency of the outcomes matched to the events of ``phase``: percentiles and maximum, in ms."""
    values = sorted(
        outcome.timestamp_ms - phase.sent_ms[event_id]
        for outcome in phase.outcomes
        if (event_id := answered(outcome)) is not None and event_id in phase.sent_ms
    )
    return {
        "matched": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": float(values[-1]) if values else None,
    }


def percentile(ordered: list[int], q: float) -> float | None:
    """Linear interpolation between the closest ranks of an ordered list."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 1)


def outcome_counts(phase: Phase) -> dict[str, Any]:
    """Outcomes of ``phase`` per topic, and the five most frequent rejection codes."""
    counts: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    for received in phase.outcomes:
        counts[received.outcome] += 1
        if received.outcome == "rejected":
            with contextlib.suppress(ValueError, KeyError, TypeError):
                for error in json.loads(received.value)["data"]["errors"]:
                    codes[error["code"]] += 1
    return {"accepted": counts["accepted"], "rejected": counts["rejected"], "dead_letter": counts["dead_letter"]} | (
        {"rejection_codes": dict(codes.most_common(5))} if codes else {}
    )


def describe(workload: Workload) -> dict[str, Any]:
    """The generated workload: its mix, lines per e-document, sizes and prerequisites per event."""
    lines = sorted(event.lines for event in workload.events if event.lines)
    sizes = sorted(len(event.value) for event in workload.events)
    return {
        "events": len(workload.events),
        "mix": workload.count(),
        "lines": {
            "mean": round(sum(lines) / len(lines), 1) if lines else None,
            "under_10": round(sum(1 for n in lines if n < 10) / len(lines), 3) if lines else None,
            "max": lines[-1] if lines else None,
        },
        "bytes": {"mean": round(sum(sizes) / len(sizes)) if sizes else None, "max": sizes[-1] if sizes else None},
        "prerequisites_per_event": round(len(workload.prerequisites) / len(workload.events), 2)
        if workload.events
        else None,
    }
