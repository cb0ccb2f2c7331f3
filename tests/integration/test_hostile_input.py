"""The hostile-input corpus (``tests/hostile/``) through a running gateway, on the real broker and the real mock:
every record ends in exactly one outcome, the one its file name says, and the gateway still files a valid event
published afterwards (no partition stuck behind an outcome it cannot publish, no crash)."""

from __future__ import annotations

import json
import time

from aiokafka import AIOKafkaProducer

from ecuapass_mock.server import MockServer
from gateway.bootstrap import build_gateway
from gateway.devstack.broker import TansuBroker
from gateway.devstack.demo import OutcomeReader, Received
from gateway.kafka.topics import ensure_topics
from gateway.pipeline import MAX_KEY_BYTES, TOO_LARGE_KEPT_BYTES
from gateway.settings import ProcessingSettings, Settings
from gateway.tools.examples import Example
from tests.hostile_corpus import HostileCase, hostile_cases
from tests.integration.conftest import make_settings

MAX_EVENT_BYTES = 64 * 1024


async def test_the_whole_corpus_gets_one_outcome_each_and_the_gateway_goes_on(
    broker: TansuBroker, mock_endpoint: MockServer, example_by_name: dict[str, Example]
) -> None:
    settings = make_settings(
        broker.bootstrap_servers,
        mock_endpoint.url,
        processing=ProcessingSettings(batch_timeout_ms=20, max_event_bytes=MAX_EVENT_BYTES),
    )
    cases = hostile_cases(settings)
    valid = example_by_name["authorization-request/accepted/minimal"]
    await ensure_topics(settings)
    gateway = build_gateway(settings)
    await gateway.start()
    reader = OutcomeReader(settings)
    await reader.start()
    try:
        await gateway.wait_assigned()
        await _publish(settings, [(case.key, case.value, case.headers) for case in cases])
        outcomes = await _read(reader, len(cases), timeout_s=60)
        outcomes += await _read(reader, 1, timeout_s=1.5)  # anything more is a second outcome for some case
        await _publish(settings, [(b"AFTER-THE-CORPUS", valid.payload(), {})])
        after = await _read(reader, 1, timeout_s=30)
    finally:
        await reader.stop()
        await gateway.stop()

    by_case = {case.name: [o for o in outcomes if _answers(o, case)] for case in cases}
    assert {name: len(found) for name, found in by_case.items() if len(found) != 1} == {}
    assert len(outcomes) == len(cases)
    for case in cases:
        _assert_expected(case, by_case[case.name][0])
    assert [o.outcome for o in after] == ["accepted"]
    assert json.loads(after[0].value)["data"]["answered_event_id"] == json.loads(valid.payload())["id"]


async def _publish(settings: Settings, records: list[tuple[bytes, bytes, dict[str, str]]]) -> None:
    # Big enough for the records above the gateway's limits: the broker takes them, the gateway must cope.
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, max_request_size=8 * 1024 * 1024)
    await producer.start()
    try:
        for key, value, headers in records:
            await producer.send(
                settings.topics.input, value, key=key, headers=[(k, v.encode()) for k, v in headers.items()]
            )
        await producer.flush()
    finally:
        await producer.stop()


async def _read(reader: OutcomeReader, count: int, *, timeout_s: float) -> list[Received]:
    found: list[Received] = []
    deadline = time.monotonic() + timeout_s
    while len(found) < count and time.monotonic() < deadline:
        found += await reader.read()
    return found


def _answers(outcome: Received, case: HostileCase) -> bool:
    if outcome.outcome == "dead-letter":  # keyed like the record: each case has its own key (cut when too long)
        return case.key[:MAX_KEY_BYTES].decode() == outcome.headers.get("dlq.original.key")
    data = json.loads(outcome.value)["data"]
    return bool(case.event_id) and data["answered_event_id"] == case.event_id


def _assert_expected(case: HostileCase, outcome: Received) -> None:
    assert outcome.outcome == case.outcome, (case.name, outcome.headers.get("dlq.detail"))
    if case.outcome == "dead-letter":
        assert outcome.headers["dlq.reason"] == case.reason, case.name
        if case.reason == "too_large":
            assert case.value.startswith(outcome.value) and len(outcome.value) <= TOO_LARGE_KEPT_BYTES
        else:
            assert outcome.value == case.value, case.name
    elif case.outcome == "rejected":
        data = json.loads(outcome.value)["data"]
        assert data["stage"] == "CONTRACT" and {e["code"] for e in data["errors"]} == case.codes, case.name
