"""The crash test: under continuous load, the gateway process is SIGKILLed at random points and restarted.

Afterwards every input event has exactly one outcome (after deduplicating by outcome id), and the mock's counts show
no message id submitted twice. Gateways are real processes configured through GATEWAY_* variables.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer

from adapters.ecuapass_mock.faults import FaultInjector, FaultSettings
from adapters.ecuapass_mock.server import MockServer
from gateway.devstack.broker import TansuBroker
from gateway.devstack.demo import OutcomeReader
from gateway.examples import Example
from gateway.kafka.topics import ensure_topics
from gateway.settings import Settings
from tests.integration.conftest import authorization_events, collect, make_settings, start_gateway

KILLS = 3


async def _publish_slowly(settings: Settings, events: list[tuple[bytes, bytes, str]], seconds: float) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, linger_ms=5)
    await producer.start()
    try:
        for key, value, _ in events:
            await producer.send(settings.topics.input, value, key=key)
            await asyncio.sleep(seconds / len(events))
        await producer.flush()
    finally:
        await producer.stop()


async def test_sigkill_at_random_points_loses_nothing_and_files_nothing_twice(
    broker: TansuBroker, example_by_name: dict[str, Example], tmp_path: Path
) -> None:
    chance = random.Random(2026)
    template = example_by_name["authorization-request/accepted/minimal"].payload()
    events = authorization_events(template, cases=40, per_case=8, prefix="crash")
    ids = {event_id for _, _, event_id in events}
    with MockServer(faults=FaultInjector(FaultSettings(latency_ms=10, latency_jitter_ms=40))) as mock:
        settings = make_settings(broker.bootstrap_servers, mock.url)
        await ensure_topics(settings)
        reader = OutcomeReader(settings)
        await reader.start()
        load = asyncio.create_task(_publish_slowly(settings, events, seconds=8))
        process: subprocess.Popen[bytes] | None = None
        try:
            for kill in range(KILLS):
                process = start_gateway(settings, mock.url, tmp_path / f"gateway-{kill}.log")
                await asyncio.sleep(chance.uniform(1.5, 3.0))  # a group join takes about a second on Tansu
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
            process = start_gateway(settings, mock.url, tmp_path / "gateway-last.log")
            await load
            found = await collect(reader, ids, timeout_s=90)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0
        finally:
            load.cancel()
            await reader.stop()
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        counts = httpx.get(f"{mock.url}/admin/filings").json()
    missing = ids - set(found)
    assert not missing, f"{len(missing)} events without an outcome"
    for event_id in ids:
        outcome_ids = {json.loads(received.value)["id"] for received in found[event_id]}  # type: ignore[attr-defined]
        assert len(outcome_ids) == 1, event_id
        assert found[event_id][0].kind == "accepted"  # type: ignore[attr-defined]
    assert not [key for key in found if key.startswith("dead-letter")]
    assert len(counts) == len(events)
    assert {message: n for message, n in counts.items() if n != 1} == {}
