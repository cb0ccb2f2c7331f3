"""SIGTERM: the gateway stops taking events, finishes what is in flight, publishes, commits and exits 0."""

from __future__ import annotations

import asyncio
import json
import re
import signal
from pathlib import Path

import httpx

from ecuapass_mock.faults import FaultInjector, FaultSettings
from ecuapass_mock.server import MockServer
from gateway.devstack.broker import TansuBroker
from gateway.devstack.demo import OutcomeReader
from gateway.kafka.topics import ensure_topics
from gateway.tools.examples import Example
from tests.harness.waiting import eventually
from tests.integration.conftest import authorization_events, collect, make_settings, publish, start_gateway


async def test_sigterm_drains_in_flight_work(
    broker: TansuBroker, example_by_name: dict[str, Example], tmp_path: Path
) -> None:
    template = example_by_name["authorization-request/accepted/minimal"].payload()
    events = authorization_events(template, cases=30, per_case=1, prefix="drain")
    ids = {event_id for _, _, event_id in events}
    with MockServer(faults=FaultInjector(FaultSettings(latency_ms=800))) as mock:
        settings = make_settings(broker.bootstrap_servers, mock.url)
        await ensure_topics(settings)
        reader = OutcomeReader(settings)
        await reader.start()
        first = start_gateway(settings, mock.url, tmp_path / "first.log")
        second = None
        try:
            await publish(settings, events)

            def filing() -> None:  # until filings are in flight at the mock
                metrics = httpx.get(f"{mock.url}/metrics").text
                assert float(re.findall(r"^ecuapass_mock_filings_in_progress (\S+)$", metrics, re.M)[0]) > 0

            await eventually(filing, timeout_s=20)
            first.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(first.wait, 60) == 0
            filed = {f["message_id"] for f in httpx.get(f"{mock.url}/admin/log").json()["filings"]}
            answered = await collect(reader, ids, timeout_s=2)
            assert filed and len(answered) >= len(filed)  # everything filed before the stop was answered
            second = start_gateway(settings, mock.url, tmp_path / "second.log")
            found = await collect(reader, ids, timeout_s=60, found=answered)

            def consuming() -> None:  # a signal during interpreter start-up would simply kill it
                assert "gateway consuming" in (tmp_path / "second.log").read_text()

            await eventually(consuming, timeout_s=15)
            second.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(second.wait, 60) == 0
        finally:
            await reader.stop()
            for process in (first, second):
                if process is not None and process.poll() is None:
                    process.kill()
        counts = httpx.get(f"{mock.url}/admin/filings").json()
    for event_id in ids:
        assert len({json.loads(r.value)["id"] for r in found[event_id]}) == 1  # type: ignore[attr-defined]
    assert len(counts) == len(events) and set(counts.values()) == {1}
