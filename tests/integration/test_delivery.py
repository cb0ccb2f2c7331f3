"""Delivery guarantees on the real broker and the real mock over HTTP: faults, and customs down.

Ordering, two instances, redelivery and backpressure are shared bodies, run in memory and here
(``tests/harness/bodies.py``)."""

from __future__ import annotations

import httpx

from ecuapass_mock.faults import FaultInjector, FaultSettings
from ecuapass_mock.server import MockServer
from gateway.bootstrap import build_gateway
from gateway.devstack.broker import TansuBroker, free_port
from gateway.devstack.demo import OutcomeReader
from gateway.kafka.topics import ensure_topics
from gateway.settings import CircuitSettings, RetrySettings
from gateway.tools.examples import Example
from tests.harness.bodies import one_outcome_each
from tests.harness.waiting import eventually
from tests.integration.conftest import authorization_events, collect, make_settings, publish


def _template(example_by_name: dict[str, Example]) -> bytes:
    return example_by_name["authorization-request/accepted/minimal"].payload()


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
    assert set(one_outcome_each(found, ids).values()) == {"accepted"}
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
    assert gateway.breaker is not None
    states: list[str] = []
    gateway.breaker.listen(states.append)
    await gateway.start()
    await gateway.wait_assigned()
    reader = OutcomeReader(settings)
    await reader.start()
    try:
        await publish(settings, events)

        async def a_probe_failed() -> None:  # opened, probed after open_s, opened again: retries long exhausted
            assert states[:3] == ["open", "half_open", "open"]

        await eventually(a_probe_failed, timeout_s=10)
        assert gateway.breaker.state != "closed"
        assert await reader.read(timeout_ms=300) == []  # no outcome at all, and above all no dead letter
        with MockServer(port=port) as mock:
            found = await collect(reader, {e for _, _, e in events}, timeout_s=30)
            counts = httpx.get(f"{mock.url}/admin/filings").json()
    finally:
        await reader.stop()
        await gateway.stop()
    assert set(one_outcome_each(found, {e for _, _, e in events}).values()) == {"accepted"}
    assert gateway.breaker.state == "closed"
    assert set(counts.values()) == {1}
