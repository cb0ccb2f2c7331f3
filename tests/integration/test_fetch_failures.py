"""Failures below the pipeline on the real broker: a batch the Kafka client cannot read becomes one dead letter and
the partition moves on; a partition that cannot move shows as a stall (``/readyz``, the gauge), one paused on
purpose does not.

Tansu stores a record batch as the producer framed it: a v2 batch whose CRC was corrupted after it was built, sent
with a raw ``ProduceRequest`` through aiokafka's client, is accepted (error 0) and fetched back byte for byte, CRC
failure included. (A batch with an unknown codec id is refused at produce time: Tansu decodes what it stores.)"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.consumer import fetcher
from aiokafka.errors import UnsupportedCodecError
from aiokafka.protocol.produce import ProduceRequest
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from adapters.fake_customs_endpoint import FakeCustomsEndpoint
from ecuapass_mock.server import MockServer
from gateway.bootstrap import build_gateway
from gateway.devstack.broker import TansuBroker
from gateway.devstack.demo import OutcomeReader
from gateway.kafka.reading import read_to_end
from gateway.kafka.service import Gateway
from gateway.kafka.topics import ensure_topics
from gateway.ports import CustomsReply, Filing
from gateway.settings import ProcessingSettings, Settings
from gateway.tools.examples import Example
from tests.harness.waiting import eventually, holds_for
from tests.integration.conftest import authorization_events, collect, make_settings

PARTITION = 1  # of the 3 the test topics have
STALLED = "ecuapass_gateway_partition_stalled_seconds"
LAG = "ecuapass_gateway_consumer_lag_records"
PAUSED = "ecuapass_gateway_consumption_paused"
CRC_AT = 17  # byte position of the CRC in a message-format v2 batch


# -- on the wire ----------------------------------------------------------------------------------------------


def corrupt_batch(count: int) -> bytes:
    """A message-format v2 batch of ``count`` records whose CRC no longer matches its content."""
    builder = DefaultRecordBatchBuilder(
        magic=2,
        compression_type=0,
        is_transactional=0,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        batch_size=1 << 20,
    )
    for n in range(count):
        builder.append(n, timestamp=None, key=b"CORRUPT", value=b'{"never": "read %d"}' % n, headers=[])
    data = builder.build()
    data[CRC_AT] ^= 0xFF
    return bytes(data)


async def produce_raw(settings: Settings, partition: int, batch: bytes) -> int:
    """Sends ``batch`` as it is to ``partition`` of the input topic; the broker's base offset for it."""
    topic = settings.topics.input
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers)
    await producer.start()
    try:
        await producer.partitions_for(topic)  # metadata: who leads the partition
        leader = producer.client.cluster.leader_for_partition(TopicPartition(topic, partition))
        request = ProduceRequest(
            required_acks=-1, timeout=5000, topics=[(topic, [(partition, batch)])], transactional_id=None
        )
        response = await producer.client.send(leader, request)
    finally:
        await producer.stop()
    ((_, partitions),) = response.topics
    ((_, error_code, base_offset, *_),) = partitions
    assert error_code == 0, f"the broker refused the corrupt batch (error {error_code}): it no longer stores as is"
    return int(base_offset)


async def send(settings: Settings, partition: int, events: list[tuple[bytes, bytes, str]]) -> list[int]:
    """Publishes ``events`` to ``partition`` of the input topic, in order; their offsets."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers)
    await producer.start()
    try:
        return [
            (await producer.send_and_wait(settings.topics.input, value, key=key, partition=partition)).offset
            for key, value, _ in events
        ]
    finally:
        await producer.stop()


async def committed(settings: Settings, partition: int) -> int | None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap_servers)
    await admin.start()
    try:
        tp = TopicPartition(settings.topics.input, partition)
        offsets = await admin.list_consumer_group_offsets(settings.kafka.group_id, partitions=[tp])
    finally:
        await admin.close()
    found = offsets.get(tp)
    return None if found is None or found.offset < 0 else int(found.offset)


# -- the ops port ---------------------------------------------------------------------------------------------


async def get(url: str) -> httpx.Response:
    """The ops server runs in this test's event loop: ask it without blocking the loop."""
    async with httpx.AsyncClient(timeout=5.0) as client:
        return await client.get(url)


async def sample(gateway: Gateway, name: str, **labels: object) -> float:
    """The value of ``name`` with exactly these labels on ``/metrics`` (0 when absent)."""
    assert gateway.ops is not None
    text = (await get(f"{gateway.ops.url}/metrics")).text
    wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def readiness(gateway: Gateway) -> tuple[int, dict[str, bool]]:
    assert gateway.ops is not None
    answer = await get(f"{gateway.ops.url}/readyz")
    checks: dict[str, bool] = answer.json()["checks"]
    return answer.status_code, checks


async def started(settings: Settings, **options: Any) -> Gateway:
    await ensure_topics(settings)
    gateway = build_gateway(settings, **options)
    await gateway.start()
    await gateway.wait_assigned()
    return gateway


def quick(broker: TansuBroker, endpoint_url: str, **processing: Any) -> Settings:
    """Test settings whose stalls show within a second, with housekeeping every 100 ms."""
    values: dict[str, Any] = {"batch_timeout_ms": 20, "commit_interval_ms": 100, "stall_after_s": 1.0}
    return make_settings(broker.bootstrap_servers, endpoint_url, processing=ProcessingSettings(**values | processing))


# -- a batch the client cannot read ---------------------------------------------------------------------------


async def test_a_corrupt_batch_is_one_dead_letter_and_the_event_after_it_is_filed(
    broker: TansuBroker,
    mock_endpoint: MockServer,
    example_by_name: dict[str, Example],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = quick(broker, mock_endpoint.url)
    template = example_by_name["authorization-request/accepted/minimal"].payload()
    events = authorization_events(template, cases=1, per_case=1, prefix="unreadable")
    gateway = await started(settings)
    reader = OutcomeReader(settings)
    await reader.start()
    try:
        with caplog.at_level(logging.WARNING, logger="gateway.kafka.unreadable"):
            first = await produce_raw(settings, PARTITION, corrupt_batch(3))
            (after,) = await send(settings, PARTITION, events)
            assert after == first + 3
            found = await collect(reader, {events[0][2], "dead-letter:unreadable"}, timeout_s=30)

        # The range counts as done: the commit passes it and the event after it.
        async def committed_past_the_event() -> None:
            assert await committed(settings, PARTITION) == after + 1

        await eventually(committed_past_the_event, timeout_s=10)
        # Outcomes go out before their offsets are committed: anything more would be in the topics by now.
        written = await read_to_end(settings, [settings.topics.acks, settings.topics.rejections, settings.topics.dlq])
        assert sum(len(records) for records in written) == 2
        (letter,) = found["dead-letter:unreadable"]
        assert letter.value == b""
        headers = letter.headers
        assert headers["dlq.original.topic"] == settings.topics.input
        assert headers["dlq.original.partition"] == str(PARTITION)
        assert (headers["dlq.original.offset"], headers["dlq.original.last.offset"]) == (str(first), str(first + 2))
        assert headers["dlq.error.class"] == "CorruptRecordException" and "CRC" in headers["dlq.detail"]
        (ack,) = found[events[0][2]]
        assert ack.outcome == "accepted"
        assert set(found) == {events[0][2], "dead-letter:unreadable"}
        (warning,) = [r for r in caplog.records if r.name == "gateway.kafka.unreadable"]
        assert f"{first}..{first + 2}" in warning.getMessage() and settings.topics.input in warning.getMessage()
        assert await sample(gateway, STALLED, partition=PARTITION) == 0.0
        status, checks = await readiness(gateway)
        assert status == 200 and checks["partitions_moving"] is True
    finally:
        await reader.stop()
        await gateway.stop()


# -- stalls ---------------------------------------------------------------------------------------------------


async def test_a_partition_that_cannot_move_is_a_stall(
    broker: TansuBroker,
    mock_endpoint: MockServer,
    example_by_name: dict[str, Example],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = quick(broker, mock_endpoint.url)
    gateway = await started(settings)
    installed = fetcher.PartitionRecords

    class Wedged(installed):  # type: ignore[misc,valid-type]
        """What aiokafka did before the gateway caught it: one partition raises on every poll."""

        def __next__(self) -> Any:
            if self._tp.partition == PARTITION:
                raise UnsupportedCodecError("Libraries for snappy compression codec not found")
            return super().__next__()

    monkeypatch.setattr(fetcher, "PartitionRecords", Wedged)
    template = example_by_name["authorization-request/accepted/minimal"].payload()
    try:
        status, checks = await readiness(gateway)
        assert status == 200 and checks["partitions_moving"] is True
        await send(settings, PARTITION, authorization_events(template, cases=2, per_case=1, prefix="wedged"))

        async def not_ready_and_shown() -> None:
            status, checks = await readiness(gateway)
            assert status == 503 and checks["partitions_moving"] is False, checks
            # The gauges follow at the next housekeeping tick.
            assert await sample(gateway, STALLED, partition=PARTITION) > 0
            # Records wait behind it: both, or only the first when the fetch that keeps failing came between the
            # two sends (the client refetches nothing while it holds records: its highwater stays the one it saw).
            assert await sample(gateway, LAG, partition=PARTITION) in (1, 2)

        await eventually(not_ready_and_shown, timeout_s=15)
        for other in (0, 2):  # nothing waits on the others
            assert await sample(gateway, STALLED, partition=other) == 0.0
    finally:
        await gateway.stop()


class GatedEndpoint(FakeCustomsEndpoint):
    """Accepts every filing once the gate opens: until then, whatever is filed stays in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.waiting = 0

    async def file(self, filing: Filing) -> CustomsReply:
        self.waiting += 1
        await self.gate.wait()
        return await super().file(filing)


async def test_a_partition_paused_on_purpose_is_no_stall(
    broker: TansuBroker, example_by_name: dict[str, Example]
) -> None:
    endpoint = GatedEndpoint()
    # One event in flight at most, one record per poll: the first event fills the gateway, which pauses
    # (backpressure) with the others waiting behind the partition's position.
    settings = quick(broker, "http://127.0.0.1:9", max_in_flight=1, batch_max_records=1)
    template = example_by_name["authorization-request/accepted/minimal"].payload()
    events = authorization_events(template, cases=4, per_case=1, prefix="paused")
    gateway = await started(settings, endpoint=endpoint)
    reader = OutcomeReader(settings)
    await reader.start()
    try:
        await send(settings, PARTITION, events[:1])

        async def paused() -> None:
            assert endpoint.waiting == 1 and await sample(gateway, PAUSED) == 1

        await eventually(paused, timeout_s=15)
        # Written while the partition is paused (so never fetched): the lag still counts them.
        await send(settings, PARTITION, events[1:])

        async def paused_with_records_waiting() -> None:
            await paused()
            assert await sample(gateway, LAG, partition=PARTITION) == len(events) - 1

        await eventually(paused_with_records_waiting, timeout_s=15)

        async def paused_and_no_stall() -> None:
            assert await sample(gateway, PAUSED) == 1 and await sample(gateway, STALLED, partition=PARTITION) == 0.0

        # Watched throughout, long past stall_after_s: paused all along, never a stall.
        await holds_for(paused_and_no_stall, seconds=3 * settings.processing.stall_after_s)
        status, checks = await readiness(gateway)
        assert status == 200 and checks["partitions_moving"] is True, checks
        # Let it go: every event is filed, the partition was never stalled.
        endpoint.gate.set()
        found = await collect(reader, {event_id for _, _, event_id in events}, timeout_s=30)
        assert {event_id for _, _, event_id in events} <= set(found)
        assert await sample(gateway, STALLED, partition=PARTITION) == 0.0
    finally:
        endpoint.gate.set()
        await reader.stop()
        await gateway.stop()


async def test_header_values_that_are_no_text_stop_nothing(
    gateway: Gateway, settings: Settings, example_by_name: dict[str, Example]
) -> None:
    """Kafka header values are bytes and may be null: FastStream's own batch parser refused the whole poll for one
    that is not UTF-8. Every record of the poll, on every partition, still gets its outcome."""
    template = example_by_name["authorization-request/accepted/minimal"].payload()
    events = authorization_events(template, cases=6, per_case=1, prefix="hdr")
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, linger_ms=50)
    await producer.start()
    try:
        for n, (key, value, _) in enumerate(events):
            odd = [("x-latin-1", "año".encode("latin-1")), ("x-null", None)] if n % 2 == 0 else []
            await producer.send(settings.topics.input, value, key=key, headers=odd)  # type: ignore[arg-type]
        await producer.flush()
    finally:
        await producer.stop()
    reader = OutcomeReader(settings)
    await reader.start(from_beginning=True)
    try:
        found = await collect(reader, {event_id for _, _, event_id in events}, timeout_s=20)
    finally:
        await reader.stop()
    assert {event_id: [o.outcome for o in outcomes] for event_id, outcomes in found.items()} == {  # type: ignore[attr-defined]
        event_id: ["accepted"] for _, _, event_id in events
    }
