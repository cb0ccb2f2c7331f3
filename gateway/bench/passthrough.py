"""Scenario 1's system under test, the broker ceiling: plain aiokafka, consume -> produce the same record -> commit.

``python -m gateway.bench.passthrough`` reads the input topic of the ``GATEWAY_*`` settings in a consumer group and
copies every record (value, key, headers) to the acknowledgments topic, committing after each poll's records are
confirmed (at-least-once, like the gateway), at most ``GATEWAY_PROCESSING__BATCH_MAX_RECORDS`` a poll. The producer
waits for every replica (``acks=all``) and lingers 5 ms like the gateway's, with 256 KiB batches. No parsing, no
validation, no HTTP: what Kafka and aiokafka cost in Python on this machine. Prints ``ready`` once its partitions
are assigned; stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import sys
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from gateway.runtime.signals import StopSignal
from gateway.settings import Settings

ASSIGNMENT_TIMEOUT_S = 120.0
BATCH_BYTES = 262_144  # aiokafka's default (16 KiB) holds about 6 of these events: a ceiling needs larger batches


async def copy(settings: Settings) -> None:
    kafka, topics = settings.kafka, settings.topics
    consumer = AIOKafkaConsumer(
        topics.input,
        bootstrap_servers=kafka.bootstrap_servers,
        group_id=kafka.group_id,
        enable_auto_commit=False,
        auto_offset_reset=kafka.auto_offset_reset,
        session_timeout_ms=kafka.session_timeout_ms,
        heartbeat_interval_ms=kafka.heartbeat_interval_ms,
        fetch_max_wait_ms=kafka.fetch_max_wait_ms,
        max_partition_fetch_bytes=max(1_048_576, settings.processing.max_event_bytes * 2),
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap_servers,
        acks="all",
        linger_ms=5,
        max_batch_size=BATCH_BYTES,
        max_request_size=max(kafka.max_message_bytes, BATCH_BYTES),
    )
    await producer.start()
    await consumer.start()
    try:
        with StopSignal() as stop:
            stopping = asyncio.create_task(stop.wait())
            deadline = time.monotonic() + ASSIGNMENT_TIMEOUT_S
            while not consumer.assignment():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no partition assigned in {ASSIGNMENT_TIMEOUT_S} s")
                await asyncio.sleep(0.05)
            print("ready", flush=True)
            while not stopping.done():
                batches = await consumer.getmany(timeout_ms=100, max_records=settings.processing.batch_max_records)
                sent = [
                    await producer.send(topics.acks, record.value, key=record.key, headers=list(record.headers or ()))
                    for records in batches.values()
                    for record in records
                ]
                if sent:
                    await asyncio.gather(*sent)
                    await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


def main() -> int:
    asyncio.run(copy(Settings()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
