"""The crash test: under load, the gateway process is SIGKILLed at random points of its work and restarted.

Each gateway gets a wave of events, half when it starts and half once it answers; it is killed once a random number
of them are answered (the point is random in the work done, not in time: never before it is at work), and the next
one is started: one gateway runs at a time. Afterwards every input event has exactly one outcome (after
deduplicating by outcome id), and the mock's counts show no message id submitted twice. Gateways are real processes
configured through GATEWAY_* variables.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
from functools import partial
from pathlib import Path

import httpx

from ecuapass_mock.faults import FaultInjector, FaultSettings
from ecuapass_mock.server import MockServer
from gateway.devstack.broker import TansuBroker
from gateway.devstack.demo import OutcomeReader
from gateway.kafka.records import Received
from gateway.kafka.topics import ensure_topics
from gateway.tools.examples import Example
from tests.harness.waiting import eventually
from tests.integration.conftest import authorization_events, collect, make_settings, publish, start_gateway

KILLS = 3


async def test_sigkill_at_random_points_loses_nothing_and_files_nothing_twice(
    broker: TansuBroker, example_by_name: dict[str, Example], tmp_path: Path
) -> None:
    chance = random.Random(2026)
    template = example_by_name["authorization-request/accepted/minimal"].payload()
    events = authorization_events(template, cases=40, per_case=8, prefix="crash")  # a case's events stay in order
    ids = {event_id for _, _, event_id in events}
    size = len(events) // (KILLS + 1)
    waves = [events[n * size : (n + 1) * size] for n in range(KILLS + 1)]
    with MockServer(faults=FaultInjector(FaultSettings(latency_ms=10, latency_jitter_ms=40))) as mock:
        settings = make_settings(broker.bootstrap_servers, mock.url)
        await ensure_topics(settings)
        reader = OutcomeReader(settings)
        await reader.start()
        found: dict[str, list[Received]] = {}
        collecting = asyncio.create_task(collect(reader, ids, timeout_s=120, found=found))
        processes = []
        try:
            for n, wave in enumerate(waves):
                processes.append(start_gateway(settings, mock.url, tmp_path / f"gateway-{n}.log"))
                wave_ids, half = {event_id for _, _, event_id in wave}, len(wave) // 2
                await publish(settings, wave[:half])
                await eventually(partial(_answered, found, wave_ids, 1), timeout_s=60)  # joined, and at work
                await publish(settings, wave[half:])
                if n < KILLS:  # at a random point of the wave's work
                    await eventually(partial(_answered, found, wave_ids, chance.randint(2, half)), timeout_s=60)
                    processes[n].send_signal(signal.SIGKILL)
                    processes[n].wait(timeout=10)
            await asyncio.wait_for(collecting, 120)
            processes[-1].send_signal(signal.SIGTERM)
            assert processes[-1].wait(timeout=60) == 0
        finally:
            collecting.cancel()
            await reader.stop()
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        counts = httpx.get(f"{mock.url}/admin/filings").json()
    missing = ids - set(found)
    assert not missing, f"{len(missing)} events without an outcome"
    for event_id in ids:
        outcome_ids = {json.loads(received.value)["id"] for received in found[event_id]}
        assert len(outcome_ids) == 1, event_id
        assert found[event_id][0].outcome == "accepted"
    assert not [key for key in found if key.startswith("dead-letter")]
    assert len(counts) == len(events)
    assert {message: n for message, n in counts.items() if n != 1} == {}


def _answered(found: dict[str, list[Received]], ids: set[str], count: int) -> None:
    """At least ``count`` of ``ids`` have their outcome."""
    assert len(ids & set(found)) >= count
