"""librdkafka (confluent-kafka) as an integrator runs it against the gateway: an idempotent producer with
``acks=all`` and the Java client's partitioner, and a consumer of the outcome topics.

librdkafka's calls block: they run in threads, so that the in-process gateway keeps running on the event loop.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, Producer, TopicPartition

from gateway.devstack.broker import TANSU_FETCH_MAX_WAIT_MS
from gateway.settings import Settings
from tests.integration.clients.records import Received, Record

CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
# What the README's "Clients" section tells librdkafka users to set.
PRODUCER_SETTINGS = {
    "enable.idempotence": True,
    "acks": "all",
    "partitioner": "murmur2_random",  # the Java client's murmur2, as the gateway's outcomes are partitioned
    "linger.ms": 5,
}


def _produce(settings: Settings, topic: str, records: Sequence[Record], codec: str) -> dict[str, int]:
    failures: list[KafkaError] = []  # delivery failures, and client errors (a refused InitProducerId is fatal)
    producer = Producer(
        {
            "bootstrap.servers": settings.kafka.bootstrap_servers,
            "compression.type": codec,
            "error_cb": failures.append,
            **PRODUCER_SETTINGS,
        }
    )
    partitions: dict[str, int] = {}

    def delivered(error: KafkaError | None, message: Message) -> None:
        if error is not None:
            failures.append(error)
            return
        key, partition = message.key(), message.partition()
        assert key is not None and partition is not None
        partitions[next(r.event_id for r in records if r.key == key)] = partition

    for item in records:
        headers: list[tuple[str, str | bytes | None]] = list(item.headers)
        producer.produce(topic, item.value, item.key, headers=headers, on_delivery=delivered)
    assert producer.flush(30) == 0, "librdkafka could not deliver every record in 30 s"
    assert failures == [], failures
    return partitions


async def produce(settings: Settings, records: Sequence[Record], topic: str | None = None) -> dict[str, int]:
    """Produce ``records`` to the input topic, one producer per codec; the partition of each event, by id."""
    partitions: dict[str, int] = {}
    for codec in dict.fromkeys(r.codec for r in records):
        batch = [r for r in records if r.codec == codec]
        assert len({r.key for r in batch}) == len(batch), "one record per case in a batch"
        partitions |= await asyncio.to_thread(_produce, settings, topic or settings.topics.input, batch, codec)
    return partitions


class TopicReader:
    """Reads topics from their beginning (the tests' topics are new): by default the acks, rejections and dead letters.

    ``group=True`` joins a fresh consumer group, as an integrator's service does (short session: group joins on
    Tansu wait about half of it); otherwise the partitions are assigned, with no group to join."""

    def __init__(self, settings: Settings, *, group: bool = False, topics: Sequence[str] | None = None) -> None:
        self._topics = list(topics or (settings.topics.acks, settings.topics.rejections, settings.topics.dlq))
        self._partitions = settings.topics.partitions
        self._group = group
        self._consumer = Consumer(
            {
                "bootstrap.servers": settings.kafka.bootstrap_servers,
                "group.id": f"client-matrix-{uuid.uuid4().hex[:8]}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "session.timeout.ms": 1000,
                "heartbeat.interval.ms": 300,
                "fetch.wait.max.ms": TANSU_FETCH_MAX_WAIT_MS,
            }
        )
        if group:
            self._consumer.subscribe(self._topics)
        else:
            self._consumer.assign(
                [TopicPartition(t, p, OFFSET_BEGINNING) for t in self._topics for p in range(self._partitions)]
            )
        self.received: list[Received] = []

    def _poll(self, timeout_s: float) -> list[Received]:
        polled = []
        for message in self._consumer.consume(num_messages=500, timeout=timeout_s):
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                raise AssertionError(f"librdkafka consumer: {error}")
            topic, partition, raw = message.topic(), message.partition(), message.headers() or []
            assert topic is not None and partition is not None and isinstance(raw, list)  # names, bytes, in order
            headers = [(name, value.encode() if isinstance(value, str) else value) for name, value in raw]
            polled.append(Received(topic, partition, message.key(), message.value() or b"", headers))
        return polled

    async def until(
        self, done: Callable[[list[Received]], bool], timeout_s: float, grace_s: float = 0.3
    ) -> list[Received]:
        """Everything read until ``done(received)`` holds (or the time runs out), and for ``grace_s`` after, so that
        a duplicate outcome would be seen."""
        deadline = time.monotonic() + timeout_s
        while not done(self.received) and time.monotonic() < deadline:
            self.received += await asyncio.to_thread(self._poll, 0.2)
        grace = time.monotonic() + grace_s
        while time.monotonic() < grace:
            self.received += await asyncio.to_thread(self._poll, 0.1)
        return self.received

    def on(self, topic: str) -> list[Received]:
        return [r for r in self.received if r.topic == topic]

    async def close(self) -> None:
        await asyncio.to_thread(self._consumer.close)
