"""One gateway on the real broker, filing with the real mock over HTTP."""

from __future__ import annotations

import json
import re

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from adapters.ecuapass_mock.server import MockServer
from gateway.devstack.demo import OutcomeReader, exchange
from gateway.examples import Example, examples, verdict
from gateway.kafka.service import Gateway
from gateway.settings import Settings


async def test_every_contract_example_reaches_its_expected_outcome(
    gateway: Gateway, settings: Settings, mock_endpoint: MockServer
) -> None:
    cases = examples()
    results = await exchange(settings, cases, timeout_s=30)
    problems = {case.name: verdict(case, received) if received else "no outcome" for case, received in results.items()}
    assert {name: p for name, p in problems.items() if p} == {}
    # Only documents that passed the gateway's checks reached customs, each filed once.
    filed = httpx.get(f"{mock_endpoint.url}/admin/filings").json()
    assert len(filed) == sum(1 for c in cases if c.expected in ("accepted", "rejected"))
    assert set(filed.values()) == {1}


async def test_acknowledgment_carries_the_number_assigned_by_the_mock(
    gateway: Gateway, settings: Settings, mock_endpoint: MockServer, example_by_name: dict[str, Example]
) -> None:
    case = example_by_name["authorization-request/accepted/minimal"]
    received = (await exchange(settings, [case], timeout_s=20))[case]
    assert received is not None and received.kind == "accepted"
    body = received.body()
    data = body["data"]
    assert isinstance(data, dict)
    assert re.fullmatch(r"028-\d{4}-AUT51-\d{8}", data["official_number"])
    assert re.fullmatch(r"17900116\d{4}\d{8}1", data["submission_number"])
    assert body["subject"] == "CASE-2026-0001" and body["type"] == "ecuapass.gateway.document-accepted.v1"
    status = httpx.get(f"{mock_endpoint.url}/api/v1/documents/{data['message_id']}")
    assert data["official_number"] in status.text  # the mock's own record agrees


async def test_customs_rejection_names_the_field(
    gateway: Gateway, settings: Settings, example_by_name: dict[str, Example]
) -> None:
    case = example_by_name["authorization-request/rejected/R51-AUT-003--return-after-two-years"]
    received = (await exchange(settings, [case], timeout_s=20))[case]
    assert received is not None and received.kind == "rejected"
    data = received.body()["data"]
    assert isinstance(data, dict)
    assert data["stage"] == "BUSINESS" and data["rejected_by"] == "customs"
    (error,) = data["errors"]
    assert error["code"] == "R51-AUT-003"
    assert error["path"] == "data.planned_return_date"
    assert error["pointer"] == "/aut:AuthorizationRequest/aut:PlannedReturnDate"
    assert error["message_es"] and error["message_en"]


async def test_malformed_record_goes_to_the_dlq_with_its_origin(gateway: Gateway, settings: Settings) -> None:
    reader = OutcomeReader(settings)
    await reader.start()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers)
    await producer.start()
    try:
        meta = await producer.send_and_wait(
            settings.topics.input,
            b"{not json",
            key=b"CASE-BROKEN",
            headers=[("traceparent", b"00-" + b"1" * 32 + b"-" + b"2" * 16 + b"-01")],
        )
        received = []
        for _ in range(100):
            received += await reader.read()
            if received:
                break
    finally:
        await producer.stop()
        await reader.stop()
    (letter,) = received
    assert letter.kind == "dead-letter"
    assert letter.value == b"{not json"
    headers = letter.headers
    assert headers["dlq.reason"] == "not_json"
    assert headers["dlq.error.class"] == "UndecodableEvent"
    assert headers["dlq.original.topic"] == settings.topics.input
    assert headers["dlq.original.partition"] == str(meta.partition)
    assert headers["dlq.original.offset"] == str(meta.offset)
    assert headers["dlq.original.key"] == "CASE-BROKEN"
    assert headers["traceparent"].startswith("00-111")  # the original's, kept as it was
    assert headers["content-type"] == "application/octet-stream"  # the original had none
    assert "correlation_id" not in headers
    for name in ("dlq.first.failure", "dlq.last.failure"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", headers[name]), headers[name]


async def test_offsets_are_committed_once_outcomes_are_out(
    gateway: Gateway, settings: Settings, example_by_name: dict[str, Example]
) -> None:
    cases = [
        example_by_name["authorization-request/accepted/minimal"],
        example_by_name["dead-letter/not_json--truncated"],
    ]
    results = await exchange(settings, cases, timeout_s=20)
    assert all(results.values())
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka.bootstrap_servers,
        group_id=settings.kafka.group_id,
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(settings.topics.input, p) for p in range(settings.topics.partitions)]
        ends = await consumer.end_offsets(partitions)
        for _ in range(50):  # the commit follows the publish by a moment
            committed = {tp: await consumer.committed(tp) or 0 for tp in partitions}
            if committed == ends:
                break
            await __import__("asyncio").sleep(0.1)
        assert committed == ends
    finally:
        await consumer.stop()


async def test_outcomes_are_keyed_by_case_and_typed_as_cloudevents(
    gateway: Gateway, settings: Settings, example_by_name: dict[str, Example]
) -> None:
    case = example_by_name["authorization-request/invalid/GW-RUC_INVALID--natural-person-bad-cedula"]
    received = (await exchange(settings, [case], timeout_s=20))[case]
    assert received is not None
    assert received.headers["content-type"].startswith("application/cloudevents+json")
    assert set(received.headers) <= {"content-type", "traceparent"}  # no framework header (no correlation_id)
    body = json.loads(received.value)
    assert body["specversion"] == "1.0" and body["subject"] == "CASE-2026-0202"
    assert body["data"]["answered_event_id"] == case.event_id()
