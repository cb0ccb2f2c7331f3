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
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from gateway.bench import procfs
from gateway.bench.driver import Collector, Phase, Publisher, answered
from gateway.bench.prerequisites import file_prerequisites
from gateway.bench.processes import Child, clean_environment, environment, python
from gateway.bench.profile import Profiler, summary
from gateway.bench.scenarios import Options, Scenario
from gateway.bench.workload import Generator, Workload
from gateway.devstack.broker import TANSU_FETCH_MAX_WAIT_MS, TansuBroker, free_port
from gateway.devstack.certificates import dev_agencies
from gateway.devstack.stack import example_senders
from gateway.errors import ConfigurationError
from gateway.kafka.topics import ensure_topics
from gateway.settings import (
    AgencySettings,
    EcuapassSettings,
    KafkaSettings,
    OpsSettings,
    ProcessingSettings,
    Settings,
    TopicSettings,
)
from gateway.signing import SigningIdentity, load_identities

_URL = re.compile(r"https?://\S+")
STALL_S = 60.0  # no new outcome for this long: the scenario is reported incomplete
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
        signing = _Signing.make(workdir) if options.signed else None
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
        "workload": _describe(workload),
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


@dataclass(frozen=True, slots=True)
class _Signing:
    """Development agencies for every sender of the workload, and the CA the mock is told to trust."""

    agencies: dict[str, AgencySettings]
    ca: Path
    identities: dict[str, SigningIdentity]  # the agencies' keys, loaded once: the warm-ups sign with them

    @classmethod
    def make(cls, workdir: Path) -> _Signing:
        agencies, ca = dev_agencies(workdir / "agencies", example_senders())
        return cls(agencies, ca, load_identities(agencies))

    def mock_environment(self) -> dict[str, str]:
        """The mock requires signatures, from this CA only."""
        return {"MOCK_SIGNATURE_CA": str(self.ca), "MOCK_REQUIRE_SIGNATURE": "true"}


def _settings(bootstrap: str, options: Options, endpoint_url: str, signing: _Signing | None) -> Settings:
    suffix = uuid.uuid4().hex[:8]
    return Settings(
        kafka=KafkaSettings(
            bootstrap_servers=bootstrap,
            group_id=f"bench-{suffix}",
            client_id="ecuapass-gateway-bench",
            session_timeout_ms=options.session_timeout_ms,
            heartbeat_interval_ms=options.session_timeout_ms // 3,
            fetch_max_wait_ms=TANSU_FETCH_MAX_WAIT_MS,
        ),
        topics=TopicSettings(
            input=f"bench-in-{suffix}",
            acks=f"bench-acks-{suffix}",
            rejections=f"bench-rejections-{suffix}",
            dlq=f"bench-dlq-{suffix}",
            quarantine=f"bench-quarantine-{suffix}",
        ),
        # The pool as large as the in-flight limit: with the default 100 connections the pool, not the limit,
        # would bound the concurrency towards a slow endpoint.
        ecuapass=EcuapassSettings(url=endpoint_url, max_connections=options.max_in_flight),
        processing=ProcessingSettings(max_in_flight=options.max_in_flight),
        ops=OpsSettings(port=free_port()),
        source="urn:ecuapass-gateway:bench",
        agencies=signing.agencies if signing is not None else {},
        log_level="INFO",
        log_format="json",
    )


def _system(scenario: Scenario, settings: Settings, log_path: Path) -> Child:
    env = environment(settings)
    if scenario.system == "gateway":
        ready = f"http://127.0.0.1:{settings.ops.port}/readyz"
        return Child("gateway", python("-m", "gateway", "run"), log_path=log_path, env=env, ready_url=ready)
    module = f"gateway.bench.{scenario.system}"  # passthrough, runner, naive
    return Child(scenario.system, python("-m", module), log_path=log_path, env=env, ready_line="ready")


class _Meter:
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


async def run_scenario(
    scenario: Scenario,
    workload: Workload,
    options: Options,
    workdir: Path,
    progress: Progress,
    signing: _Signing | None = None,
) -> dict[str, Any]:
    load_before = procfs.load_average()
    part = workload.head(scenario.events + (scenario.paced_events if scenario.uses_mock else 0))
    result: dict[str, Any] = {
        "key": scenario.key,
        "number": scenario.number,
        "title": scenario.title,
        "system": scenario.system,
        "endpoint": scenario.endpoint,
        "events": scenario.events,
        "completed": False,
    }
    with TansuBroker(log_path=workdir / f"{scenario.key}-tansu.log") as broker:
        tansu = procfs.child_running(os.getpid(), broker.bootstrap_servers)
        mock: Child | None = None
        system: Child | None = None
        publisher: Publisher | None = None
        collector: Collector | None = None
        profiler: Profiler | None = None
        try:
            pids = {"tansu": tansu} if tansu else {}
            if scenario.uses_mock:
                mock = await Child(
                    "mock",
                    python("-m", "gateway", "mock", "--port", "0", "--state", ":memory:"),
                    log_path=workdir / f"{scenario.key}-mock.log",
                    env=clean_environment() | (signing.mock_environment() if signing is not None else {}),
                    ready_line="Mock Ecuapass on",
                ).start()
                found = _URL.search(mock.first_line)
                if found is None:
                    raise ConfigurationError(f"the mock did not say where it listens: {mock.first_line!r}")
                url = found.group(0)
                progress(f"  filing {len(part.prerequisites)} prerequisites with the mock")
                warm_up = time.monotonic()
                identities = signing.identities if signing is not None else None
                numbers = await file_prerequisites(url, part.prerequisites, identities=identities)
                result["prerequisites"] = {
                    "filed": len(numbers),
                    "seconds": round(time.monotonic() - warm_up, 1),
                }
                events = part.resolved(numbers)
                if scenario.mock_latency_ms:
                    await _set_latency(url, scenario.mock_latency_ms)
                burst, paced_pool = events[: scenario.events], events[scenario.events :]
                pids["mock"] = mock.pid
            else:
                url = "http://127.0.0.1:9/"  # never called
                events = part.offline()
                burst = events[: scenario.events]
                paced_pool = events[: scenario.paced_events]  # no endpoint state: the same events may go again
            settings = _settings(broker.bootstrap_servers, options, url, signing)
            await ensure_topics(settings)
            publisher, collector = Publisher(settings), Collector(settings)
            await publisher.start()
            await collector.start()
            if scenario.preload:
                await publisher.burst(burst, collector.phase)
            starting = time.monotonic()
            system = await _system(scenario, settings, workdir / f"{scenario.key}-{scenario.system}.log").start()
            result["start_s"] = round(time.monotonic() - starting, 1)
            ready_ms = int(time.time() * 1000)
            pids["system"] = system.pid
            progress(f"  {scenario.system} ready; burst of {len(burst)} events")

            if options.profile_dir is not None:
                options.profile_dir.mkdir(parents=True, exist_ok=True)
                profiler = Profiler(system.pid, options.profile_dir / f"{scenario.number}-{scenario.key}.folded")
                await profiler.start()
            meter = _Meter(pids)
            if not scenario.preload:
                await publisher.burst(burst, collector.phase)
            complete = await _await_outcomes(collector, len(burst))
            cpu = meter.stop()
            if profiler is not None:
                await profiler.stop()
                result["profile"] = {"file": str(profiler.path)} | summary(profiler.path)
                profiler = None
            first_ms = collector.phase.first_sent_ms if not scenario.preload else ready_ms
            burst_phase = collector.next_phase()
            result |= _throughput(burst_phase, first_ms, len(burst), cpu)
            result["completed"] = complete

            rate = result["throughput_eps"]
            if complete and rate > 0 and paced_pool:
                paced_rate = min(rate / 2, options.paced_rate_cap)
                count = min(len(paced_pool), max(20, math.ceil(paced_rate * options.paced_seconds)))
                progress(f"  paced: {count} events at {paced_rate:.1f}/s")
                meter = _Meter(pids)
                await publisher.paced(paced_pool[:count], paced_rate, collector.phase)
                paced_complete = await _await_outcomes(collector, count)
                cpu = meter.stop()
                paced = collector.next_phase()
                result["paced"] = {
                    "rate_eps": round(paced_rate, 1),
                    "events": count,
                    "completed": paced_complete,
                    "latency_ms": _latencies(paced),
                    "cpu_s_per_1000": round(cpu["system"] / count * 1000, 3),
                    "outcomes": _outcomes(paced),
                }
                result["completed"] = complete and paced_complete
            result["memory_mib"] = {k: round(v, 1) for k, v in system.memory_mib().items()}
            result["peak_rss_mb"] = round(result["memory_mib"].get("peak_rss", 0.0) * 1.048576, 1)
            if mock is not None:
                result["mock_memory_mib"] = {k: round(v, 1) for k, v in mock.memory_mib().items()}
        except ConfigurationError as exc:
            result["error"] = str(exc)
            progress(f"  failed: {exc}")
        finally:
            if profiler is not None:
                await profiler.stop()
            if system is not None:
                result["exit_code"] = await system.stop()
            if collector is not None:
                await collector.stop()
            if publisher is not None:
                await publisher.stop()
            if mock is not None:
                await mock.stop()
    if scenario.mock_latency_ms:  # what concurrency allows against that latency: in flight / latency
        in_flight = 1 if scenario.system == "naive" else options.max_in_flight
        result["bound_eps"] = round(in_flight / (scenario.mock_latency_ms / 1000), 1)
    result["load_average"] = {"before": load_before, "after": procfs.load_average()}
    return result


async def _set_latency(url: str, latency_ms: float) -> None:
    """The mock answers at once during the warm-up; then every answer waits ``latency_ms``."""
    async with httpx.AsyncClient(base_url=url, timeout=10.0) as client:
        response = await client.put("/admin/faults", json={"latency_ms": latency_ms})
        response.raise_for_status()


async def _await_outcomes(collector: Collector, count: int) -> bool:
    """Until ``count`` outcomes arrived; False once nothing new came for ``STALL_S``."""
    seen = -1
    while len(collector.phase.outcomes) != seen:
        seen = len(collector.phase.outcomes)
        if await collector.wait_for(count, STALL_S):
            return True
    return False


def _throughput(phase: Phase, first_ms: int, count: int, cpu: dict[str, float]) -> dict[str, Any]:
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
        "saturated_latency_ms": _latencies(phase),
        "outcomes": _outcomes(phase),
    }


def _latencies(phase: Phase) -> dict[str, float | int | None]:
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


def _outcomes(phase: Phase) -> dict[str, Any]:
    kinds: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    for outcome in phase.outcomes:
        kinds[outcome.kind] += 1
        if outcome.kind == "rejected":
            with contextlib.suppress(ValueError, KeyError, TypeError):
                for error in json.loads(outcome.value)["data"]["errors"]:
                    codes[error["code"]] += 1
    return {"accepted": kinds["accepted"], "rejected": kinds["rejected"], "dead_letter": kinds["dead_letter"]} | (
        {"rejection_codes": dict(codes.most_common(5))} if codes else {}
    )


def _describe(workload: Workload) -> dict[str, Any]:
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


def _summary(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"  -> failed: {result['error']}"
    paced = result.get("paced", {})
    p99 = paced.get("latency_ms", {}).get("p99")
    return (
        f"  -> {result.get('throughput_eps', 0):,.0f} events/s, p99 {p99} ms at {paced.get('rate_eps')}/s, "
        f"{result.get('cpu_s_per_1000')} CPU s/1k, peak RSS {result.get('peak_rss_mb')} MB"
    )
