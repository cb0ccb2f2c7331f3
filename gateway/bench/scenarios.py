"""The five scenarios of the benchmark, and the options of a run (sizes, which scenarios, where the JSON goes).

Each scenario names its system under test (a separate process, so that its CPU time and peak RSS are its own),
whether the mock serves it and with which added latency, and how many events it is measured on. ``--quick`` sizes
are for the smoke test: they prove the machinery, not the speed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

System = Literal["passthrough", "runner", "gateway", "naive"]


@dataclass(frozen=True, slots=True)
class Scenario:
    key: str
    number: int
    title: str
    system: System
    endpoint: str  # what answers the filings, for the table
    mock_latency_ms: float | None  # None: no mock (the passthrough, or the in-process endpoint)
    events: int  # measured at full speed (a backlog)
    paced_events: int  # most events of the latency phase (at half the measured rate)
    preload: bool = False  # publish the backlog before the system under test starts

    @property
    def uses_mock(self) -> bool:
        return self.mock_latency_ms is not None


SLOW_MS = 200.0
PACED_SECONDS = 8.0  # length of the latency phase
SESSION_TIMEOUT_MS = 6_000

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "broker",
        1,
        "Broker ceiling: aiokafka consume -> produce passthrough",
        "passthrough",
        "none",
        None,
        40_000,
        20_000,
        preload=True,
    ),
    Scenario(
        "instant",
        2,
        "Gateway, instant endpoint (in-process)",
        "runner",
        "in-process, accepts at once",
        None,
        10_000,
        10_000,
    ),
    Scenario("mock", 3, "Gateway, real mock over HTTP", "gateway", "mock process, HTTP", 0.0, 3_000, 1_500),
    Scenario(
        "slow", 4, "Gateway, slow endpoint (mock +200 ms)", "gateway", "mock process, +200 ms", SLOW_MS, 3_000, 1_500
    ),
    Scenario("naive", 5, "Naive FastStream handler (mock +200 ms)", "naive", "mock process, +200 ms", SLOW_MS, 150, 60),
)
BY_KEY = {scenario.key: scenario for scenario in SCENARIOS}
QUICK_EVENTS = {"broker": 300, "instant": 200, "mock": 60, "slow": 60, "naive": 8}


@dataclass(frozen=True, slots=True)
class Options:
    scenarios: tuple[Scenario, ...] = SCENARIOS
    paced_seconds: float = PACED_SECONDS
    paced_rate_cap: float = 5_000.0  # the driver cannot pace faster than this while the system under test runs
    max_in_flight: int = 200
    # Tansu: a group join waits max(1 s, session / 2). 6 s keeps a member that is busy for a while in its group;
    # the smoke test's tiny runs use 1 s, as the integration tests do.
    session_timeout_ms: int = SESSION_TIMEOUT_MS
    seed: int = 51
    quick: bool = False
    keep_logs: Path | None = None  # where the processes' logs go (default: a temporary folder, removed)
    profile_dir: Path | None = None  # py-spy profiles of the systems under test during their bursts
    # Sign every e-document (development certificates for the workload's senders; the mock requires signatures).
    signed: bool = False


def select(
    keys: list[str] | None, *, scale: float = 1.0, events: int | None = None, quick: bool = False
) -> tuple[Scenario, ...]:
    """The chosen scenarios (all by default), sized: ``--quick`` tiny, ``events`` for all, ``scale`` times the
    default."""
    chosen = SCENARIOS if not keys else tuple(BY_KEY[key] for key in keys)
    sized = []
    for scenario in chosen:
        if quick:
            count = QUICK_EVENTS[scenario.key]
        elif events is not None:
            count = events
        else:
            count = max(1, round(scenario.events * scale))
        paced = max(1, round(scenario.paced_events * count / scenario.events))
        sized.append(replace(scenario, events=count, paced_events=paced))
    return tuple(sized)
