"""Delivery guarantees on the real broker and the real mock: faults, outages, ordering, two instances."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict

import httpx

from adapters.ecuapass_mock.faults import FaultInjector, FaultSettings
from adapters.ecuapass_mock.server import MockServer
from adapters.fake_customs_endpoint import FakeCustomsEndpoint
from gateway.bootstrap import build_gateway
from gateway.devstack.broker import TansuBroker, free_port
from gateway.devstack.demo import OutcomeReader
from gateway.examples import Example
from gateway.kafka.topics import ensure_topics
from gateway.ports import CustomsReply, Filing
from gateway.settings import CircuitSettings, ProcessingSettings, RetrySettings
from tests.integration.conftest import authorization_events, collect, make_settings, publish


def _template(example_by_name: dict[str, Example]) -> bytes:
    return example_by_name["authorization-request/accepted/minimal"].payload()


def _one_outcome_each(found: dict[str, list[object]], ids: set[str]) -> dict[str, str]:
    """event id -> the kind of its single outcome (after deduplicating by outcome id)."""
    kinds = {}
    for event_id in ids:
        received = found.get(event_id, [])
        assert received, f"no outcome for {event_id}"
        outcome_ids = {json.loads(r.value)["id"] for r in received}  # type: ignore[attr-defined]
        assert len(outcome_ids) == 1, f"{event_id} has different outcomes {outcome_ids}"
        kinds[event_id] = received[0].kind  # type: ignore[attr-defined]
    return kinds


async def test_faults_still_file_everything_exactly_once(
    broker: TansuBroker, example_by_name: dict[str, Example]
) -> None:
    faults = FaultSettings(
        seed=11, error_rate=0.3, latency_ms=10, latency_jitter_ms=40, reset_rate=0.05, lost_response_rate=0.05
    )
    with MockServer(faults=FaultInjector(faults)) as mock:
        settings = make_settings(
            broker.bootstrap_servers,
            mock.url,
            retry=RetrySettings(max_attempts=20, initial_backoff_s=0.02, max_backoff_s=0.2),
            circuit=CircuitSettings(failure_threshold=50, open_s=0.2),
        )
        await ensure_topics(settings)
        events = authorization_events(_template(example_by_name), cases=12, per_case=5, prefix="fault")
        gateway = build_gateway(settings)
        await gateway.start()
        reader = OutcomeReader(settings)
        await reader.start()
        try:
            await publish(settings, events)
            ids = {event_id for _, _, event_id in events}
            found = await collect(reader, ids, timeout_s=60)
        finally:
            await reader.stop()
            await gateway.stop()
        counts = httpx.get(f"{mock.url}/admin/filings").json()
        injected = httpx.get(f"{mock.url}/metrics").text
    assert set(_one_outcome_each(found, ids).values()) == {"accepted"}
    assert not [k for k in found if k.startswith("dead-letter")]
    assert len(counts) == len(events) and set(counts.values()) == {1}
    assert 'fault="error"' in injected and 'fault="lost_response"' in injected


async def test_customs_down_opens_the_circuit_and_nothing_is_dead_lettered(
    broker: TansuBroker, example_by_name: dict[str, Example]
) -> None:
    port = free_port()
    settings = make_settings(
        broker.bootstrap_servers,
        f"http://127.0.0.1:{port}",
        retry=RetrySettings(max_attempts=3, initial_backoff_s=0.02, max_backoff_s=0.05),
        circuit=CircuitSettings(failure_threshold=3, open_s=0.3),
    )
    await ensure_topics(settings)
    events = authorization_events(_template(example_by_name), cases=8, per_case=3, prefix="outage")
    gateway = build_gateway(settings)
    await gateway.start()
    await gateway.wait_assigned()
    reader = OutcomeReader(settings)
    await reader.start()
    try:
        await publish(settings, events)
        await asyncio.sleep(2.0)  # customs is down: far longer than 3 attempts take
        assert gateway.breaker is not None and gateway.breaker.state != "closed"
        assert await reader.read(timeout_ms=300) == []  # no outcome at all, and above all no dead letter
        with MockServer(port=port) as mock:
            found = await collect(reader, {e for _, _, e in events}, timeout_s=30)
            counts = httpx.get(f"{mock.url}/admin/filings").json()
    finally:
        await reader.stop()
        await gateway.stop()
    assert set(_one_outcome_each(found, {e for _, _, e in events}).values()) == {"accepted"}
    assert gateway.breaker.state == "closed"
    assert set(counts.values()) == {1}


async def test_each_case_in_order_cases_in_parallel(broker: TansuBroker, example_by_name: dict[str, Example]) -> None:
    with MockServer(faults=FaultInjector(FaultSettings(latency_ms=20, latency_jitter_ms=30))) as mock:
        settings = make_settings(broker.bootstrap_servers, mock.url)
        await ensure_topics(settings)
        events = authorization_events(_template(example_by_name), cases=20, per_case=5, prefix="order")
        gateway = build_gateway(settings)
        await gateway.start()
        reader = OutcomeReader(settings)
        await reader.start()
        try:
            await publish(settings, events)
            found = await collect(reader, {e for _, _, e in events}, timeout_s=60)
        finally:
            await reader.stop()
            await gateway.stop()
        log = httpx.get(f"{mock.url}/admin/log").json()
    assert set(_one_outcome_each(found, {e for _, _, e in events}).values()) == {"accepted"}
    filed: dict[str, list[str]] = defaultdict(list)
    for filing in log["filings"]:
        filed[filing["case_id"]].append(filing["reference"])
    assert len(filed) == 20
    for references in filed.values():
        assert references == sorted(references), references  # each case's documents arrived in order
    assert log["peak_in_flight"] > 5  # while cases were filed side by side


async def test_two_instances_split_the_work_and_hand_over(
    broker: TansuBroker, example_by_name: dict[str, Example]
) -> None:
    with MockServer(faults=FaultInjector(FaultSettings(latency_ms=30))) as mock:
        settings = make_settings(
            broker.bootstrap_servers, mock.url, processing=ProcessingSettings(batch_timeout_ms=20, drain_timeout_s=10)
        )
        await ensure_topics(settings)
        first, second = build_gateway(settings), build_gateway(settings)
        await first.start()
        await second.start()
        for _ in range(100):  # until the group has settled on both members
            if first.assigned_partitions() and second.assigned_partitions():
                break
            await asyncio.sleep(0.1)
        assert first.assigned_partitions() and second.assigned_partitions()
        assert not first.assigned_partitions() & second.assigned_partitions()
        reader = OutcomeReader(settings)
        await reader.start()
        events = authorization_events(_template(example_by_name), cases=30, per_case=4, prefix="pair")
        before, after = events[:60], events[60:]
        try:
            await publish(settings, before)
            await asyncio.sleep(0.3)
            await first.stop()  # graceful: finishes and commits its work, the second takes its partitions
            await publish(settings, after)  # lands on every partition, the first instance's included
            found = await collect(reader, {e for _, _, e in events}, timeout_s=60)
            assert second.assigned_partitions() == {(settings.topics.input, p) for p in range(3)}
        finally:
            await reader.stop()
            await second.stop()
        counts = httpx.get(f"{mock.url}/admin/filings").json()
    assert set(_one_outcome_each(found, {e for _, _, e in events}).values()) == {"accepted"}
    assert len(counts) == len(events) and set(counts.values()) == {1}


class HeldCustoms(FakeCustomsEndpoint):
    """Accepts, but only once ``release`` is set; counts how many filings wait at once."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.waiting = 0
        self.peak = 0

    async def file(self, filing: Filing) -> CustomsReply:
        self.waiting += 1
        self.peak = max(self.peak, self.waiting)
        await self.release.wait()
        self.waiting -= 1
        return await super().file(filing)


async def test_a_full_gateway_pauses_and_resumes_as_soon_as_half_is_done(
    broker: TansuBroker, example_by_name: dict[str, Example]
) -> None:
    # Housekeeping (commits, the old resume tick) only every 10 minutes: the resume must come from finishing work.
    settings = make_settings(
        broker.bootstrap_servers,
        "http://127.0.0.1:9/",
        processing=ProcessingSettings(max_in_flight=4, batch_timeout_ms=20, commit_interval_ms=600_000),
    )
    await ensure_topics(settings)
    events = authorization_events(_template(example_by_name), cases=12, per_case=1, prefix="pause")
    first, second = events[:6], events[6:]
    customs = HeldCustoms()
    gateway = build_gateway(settings, endpoint=customs)
    await gateway.start()
    reader = OutcomeReader(settings)
    await reader.start()
    try:
        await gateway.wait_assigned()
        await publish(settings, first)
        for _ in range(200):
            if gateway.scheduler.in_flight == len(first):
                break
            await asyncio.sleep(0.05)
        await publish(settings, second)
        await asyncio.sleep(1.0)  # the second round is there to take; a full gateway must not take it
        gateway.refresh_gauges()
        paused_while_full = gateway.metrics.registry.get_sample_value("ecuapass_gateway_consumption_paused")
        taken_while_full = gateway.scheduler.in_flight
        customs.release.set()
        found = await collect(reader, {e for _, _, e in events}, timeout_s=30)
    finally:
        await reader.stop()
        await gateway.stop()
    assert paused_while_full == 1 and taken_while_full == len(first)
    assert customs.peak <= 4
    assert set(_one_outcome_each(found, {e for _, _, e in events}).values()) == {"accepted"}
