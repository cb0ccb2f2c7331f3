"""Running the benchmark: each scenario on its own fresh broker (and mock), then the report.

Per scenario:

    Tansu broker (fresh) -> topics -> [mock process -> prerequisites filed] -> outcome collector
    -> system under test started, partitions assigned -> burst: N events at once; N outcomes awaited
    -> paced: M new events at half the measured rate (latency) -> CPU, RSS read -> everything stopped

Throughput is N over the time from the first event published (or, with a preloaded backlog, from the moment the
system under test was ready) to the last outcome's timestamp. CPU seconds are read from ``/proc`` at both ends of
the burst, for the system under test and for everything else that shares the two cores (broker, mock, this
driver, and whatever else the machine was doing), so a reader can tell what saturated. Latency is measured in the
paced phase: at saturation it is only the length of the queue.

What a scenario is given (settings, agencies, commands) is in ``gateway.bench.preparation``; how the figures are
computed, in ``gateway.bench.measures``.
"""

from __future__ import annotations

import logging
import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.bench import procfs
from gateway.bench.driver import Collector, Publisher
from gateway.bench.measures import Meter, await_outcomes, describe, latencies, outcome_counts, throughput
from gateway.bench.preparation import Signing, scenario_settings, set_latency, system_under_test
from gateway.bench.prerequisites import file_prerequisites
from gateway.bench.processes import Child, clean_environment, python
from gateway.bench.profile import Profiler, summary
from gateway.bench.scenarios import Options, Scenario
from gateway.bench.workload import Event, Generator, Workload
from gateway.devstack.broker import TANSU_FETCH_MAX_WAIT_MS, TansuBroker
from gateway.errors import ConfigurationError
from gateway.kafka.topics import ensure_topics
from gateway.settings import Settings, TopicSettings

_URL = re.compile(r"https?://\S+")
Progress = Callable[[str], None]


async def run(options: Options, progress: Progress = print) -> dict[str, Any]:
    """Every scenario of ``options``; the results as one JSON-ready dict (see ``gateway.bench.report``)."""
    started = time.time()
    logging.getLogger("gateway.kafka.topics").setLevel(logging.WARNING)  # topics are created for every scenario
    largest = max(s.events + (s.paced_events if s.uses_mock else 0) for s in options.scenarios)
    progress(f"generating {largest} events (seed {options.seed})")
    workload = Generator(options.seed).workload(largest)
    workdir = options.keep_logs or Path(tempfile.mkdtemp(prefix="ecuapass-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        signing = Signing.make(workdir) if options.signed else None
        for scenario in options.scenarios:
            progress(f"scenario {scenario.number}: {scenario.title} ({scenario.events} events)")
            result = await run_scenario(scenario, workload, options, workdir, progress, signing)
            results.append(result)
            progress(_summary(result))
    finally:
        if options.keep_logs is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return {
        "started": started,
        "duration_s": round(time.time() - started, 1),
        "workload": describe(workload),
        "settings": {
            "max_in_flight": options.max_in_flight,
            "slow_endpoint_latency_ms": next((s.mock_latency_ms for s in options.scenarios if s.mock_latency_ms), None),
            "paced_seconds": options.paced_seconds,
            "paced_rate_cap": options.paced_rate_cap,
            "partitions": TopicSettings().partitions,
            "session_timeout_ms": options.session_timeout_ms,
            "fetch_max_wait_ms": TANSU_FETCH_MAX_WAIT_MS,
            "quick": options.quick,
            "seed": options.seed,
            "signed": options.signed,
        },
        "scenarios": results,
    }


async def run_scenario(
    scenario: Scenario,
    workload: Workload,
    options: Options,
    workdir: Path,
    progress: Progress,
    signing: Signing | None = None,
) -> dict[str, Any]:
    """One scenario on a fresh broker: set up, burst, paced phase, everything stopped; its JSON-ready result."""
    load_before = procfs.load_average()
    part = workload.head(scenario.events + (scenario.paced_events if scenario.uses_mock else 0))
    steps = _ScenarioRun(scenario, options, workdir, progress, signing)
    with TansuBroker(log_path=workdir / f"{scenario.key}-tansu.log") as broker:
        tansu = procfs.child_running(os.getpid(), broker.bootstrap_servers)
        try:
            await steps.measure(part, broker.bootstrap_servers, tansu)
        except ConfigurationError as exc:
            steps.result["error"] = str(exc)
            progress(f"  failed: {exc}")
        finally:
            await steps.stop()
    result = steps.result
    if scenario.mock_latency_ms:  # what concurrency allows against that latency: in flight / latency
        in_flight = 1 if scenario.system == "naive" else options.max_in_flight
        result["bound_eps"] = round(in_flight / (scenario.mock_latency_ms / 1000), 1)
    result["load_average"] = {"before": load_before, "after": procfs.load_average()}
    return result


class _ScenarioRun:
    """One scenario on its broker, step by step: the processes and clients it started (``stop`` stops them in the
    reverse order) and its result, filled in as it goes."""

    def __init__(
        self, scenario: Scenario, options: Options, workdir: Path, progress: Progress, signing: Signing | None
    ) -> None:
        self._scenario = scenario
        self._options = options
        self._workdir = workdir
        self._progress = progress
        self._signing = signing
        self.result: dict[str, Any] = {
            "key": scenario.key,
            "number": scenario.number,
            "title": scenario.title,
            "system": scenario.system,
            "endpoint": scenario.endpoint,
            "events": scenario.events,
            "completed": False,
        }
        self._pids: dict[str, int] = {}
        self._mock: Child | None = None
        self._system: Child | None = None
        self._publisher: Publisher | None = None
        self._collector: Collector | None = None
        self._profiler: Profiler | None = None

    async def measure(self, part: Workload, bootstrap_servers: str, tansu: int | None) -> None:
        """Endpoint, topics and clients set up, the system under test started; the burst, then the paced phase."""
        self._pids = {"tansu": tansu} if tansu else {}
        url, burst, paced_pool = await self._endpoint(part)
        settings = scenario_settings(bootstrap_servers, self._options, url, self._signing)
        await ensure_topics(settings)
        publisher, collector = await self._clients(settings)
        if self._scenario.preload:
            await publisher.burst(burst, collector.phase)
        system, ready_ms = await self._start_system(settings)
        self._progress(f"  {self._scenario.system} ready; burst of {len(burst)} events")
        complete = await self._burst(publisher, collector, burst, system.pid, ready_ms)
        if complete and self.result["throughput_eps"] > 0 and paced_pool:
            paced_complete = await self._paced(publisher, collector, paced_pool)
            self.result["completed"] = complete and paced_complete
        self._memory(system)

    async def _endpoint(self, part: Workload) -> tuple[str, list[Event], list[Event]]:
        """Where the system under test files (the mock, if the scenario has one); the burst and the paced pool."""
        scenario = self._scenario
        if not scenario.uses_mock:
            events = part.offline()
            # No endpoint state: the same events may go again in the paced phase. The URL is never called.
            return "http://127.0.0.1:9/", events[: scenario.events], events[: scenario.paced_events]
        url = await self._start_mock()
        events = await self._file_prerequisites(url, part)
        if scenario.mock_latency_ms:
            await set_latency(url, scenario.mock_latency_ms)
        return url, events[: scenario.events], events[scenario.events :]

    async def _start_mock(self) -> str:
        """The mock process (requiring signatures from the development CA, if signed); the URL it listens on."""
        signing = self._signing
        mock = await Child(
            "mock",
            python("-m", "gateway", "mock", "--port", "0", "--state", ":memory:"),
            log_path=self._workdir / f"{self._scenario.key}-mock.log",
            env=clean_environment() | (signing.mock_environment() if signing is not None else {}),
            ready_line="Mock Ecuapass on",
        ).start()
        self._mock = mock
        found = _URL.search(mock.first_line)
        if found is None:
            raise ConfigurationError(f"the mock did not say where it listens: {mock.first_line!r}")
        self._pids["mock"] = mock.pid
        return found.group(0)

    async def _file_prerequisites(self, url: str, part: Workload) -> list[Event]:
        """The prerequisites filed with the mock; the events, resolved against the numbers it gave them."""
        self._progress(f"  filing {len(part.prerequisites)} prerequisites with the mock")
        warm_up = time.monotonic()
        identities = self._signing.identities if self._signing is not None else None
        numbers = await file_prerequisites(url, part.prerequisites, identities=identities)
        self.result["prerequisites"] = {"filed": len(numbers), "seconds": round(time.monotonic() - warm_up, 1)}
        return part.resolved(numbers)

    async def _clients(self, settings: Settings) -> tuple[Publisher, Collector]:
        publisher, collector = Publisher(settings), Collector(settings)
        self._publisher, self._collector = publisher, collector
        await publisher.start()
        await collector.start()
        return publisher, collector

    async def _start_system(self, settings: Settings) -> tuple[Child, int]:
        """The system under test, ready (its start-up time in the result); the time it was ready, in ms."""
        scenario = self._scenario
        starting = time.monotonic()
        system = await system_under_test(
            scenario, settings, self._workdir / f"{scenario.key}-{scenario.system}.log"
        ).start()
        self._system = system
        self.result["start_s"] = round(time.monotonic() - starting, 1)
        ready_ms = int(time.time() * 1000)
        self._pids["system"] = system.pid
        return system, ready_ms

    async def _burst(
        self, publisher: Publisher, collector: Collector, burst: list[Event], pid: int, ready_ms: int
    ) -> bool:
        """The burst (profiled, with ``--profile``): throughput, CPU, latency at saturation; whether it completed."""
        profiler = await self._start_profiler(pid)
        meter = Meter(self._pids)
        if not self._scenario.preload:
            await publisher.burst(burst, collector.phase)
        complete = await await_outcomes(collector, len(burst))
        cpu = meter.stop()
        if profiler is not None:
            await profiler.stop()
            self.result["profile"] = {"file": str(profiler.path)} | summary(profiler.path)
            self._profiler = None
        first_ms = collector.phase.first_sent_ms if not self._scenario.preload else ready_ms
        burst_phase = collector.next_phase()
        self.result |= throughput(burst_phase, first_ms, len(burst), cpu)
        self.result["completed"] = complete
        return complete

    async def _start_profiler(self, pid: int) -> Profiler | None:
        profile_dir = self._options.profile_dir
        if profile_dir is None:
            return None
        profile_dir.mkdir(parents=True, exist_ok=True)
        profiler = Profiler(pid, profile_dir / f"{self._scenario.number}-{self._scenario.key}.folded")
        self._profiler = profiler
        await profiler.start()
        return profiler

    async def _paced(self, publisher: Publisher, collector: Collector, pool: list[Event]) -> bool:
        """Latency at half the burst's rate (capped), for ``paced_seconds`` (20 events at least); if it completed."""
        options = self._options
        paced_rate = min(self.result["throughput_eps"] / 2, options.paced_rate_cap)
        count = min(len(pool), max(20, math.ceil(paced_rate * options.paced_seconds)))
        self._progress(f"  paced: {count} events at {paced_rate:.1f}/s")
        meter = Meter(self._pids)
        await publisher.paced(pool[:count], paced_rate, collector.phase)
        complete = await await_outcomes(collector, count)
        cpu = meter.stop()
        paced = collector.next_phase()
        self.result["paced"] = {
            "rate_eps": round(paced_rate, 1),
            "events": count,
            "completed": complete,
            "latency_ms": latencies(paced),
            "cpu_s_per_1000": round(cpu["system"] / count * 1000, 3),
            "outcomes": outcome_counts(paced),
        }
        return complete

    def _memory(self, system: Child) -> None:
        result = self.result
        result["memory_mib"] = {k: round(v, 1) for k, v in system.memory_mib().items()}
        result["peak_rss_mb"] = round(result["memory_mib"].get("peak_rss", 0.0) * 1.048576, 1)
        if self._mock is not None:
            result["mock_memory_mib"] = {k: round(v, 1) for k, v in self._mock.memory_mib().items()}

    async def stop(self) -> None:
        """Whatever was started, in the reverse order; the exit code of the system under test in the result."""
        if self._profiler is not None:
            await self._profiler.stop()
        if self._system is not None:
            self.result["exit_code"] = await self._system.stop()
        if self._collector is not None:
            await self._collector.stop()
        if self._publisher is not None:
            await self._publisher.stop()
        if self._mock is not None:
            await self._mock.stop()


def _summary(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"  -> failed: {result['error']}"
    paced = result.get("paced", {})
    p99 = paced.get("latency_ms", {}).get("p99")
    return (
        f"  -> {result.get('throughput_eps', 0):,.0f} events/s, p99 {p99} ms at {paced.get('rate_eps')}/s, "
        f"{result.get('cpu_s_per_1000')} CPU s/1k, peak RSS {result.get('peak_rss_mb')} MB"
    )
