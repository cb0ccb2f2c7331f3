"""Reading topics from their beginning to where they end: the outcome and dead-letter tools' one reader."""

from __future__ import annotations

import time
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from gateway.errors import ConfigurationError
from gateway.kafka.security import client_security
from gateway.settings import Settings


async def read_to_end(settings: Settings, topics: Sequence[str]) -> list[list[ConsumerRecord]]:
    """Every record of each topic (all partitions, in offset order) up to where it ended when called.

    The reported end only says when to stop; whole fetched batches are kept. Tansu reports a partition's end as
    the first offset of its last record batch + 1, so cutting records at the reported end (as
    a plain reader would) loses the rest of that batch, typically the latest outcomes. A broker that
    stops answering for ``request_timeout_ms`` ends the read with a ``ConfigurationError``.
    """
    found: dict[str, list[ConsumerRecord]] = {topic: [] for topic in topics}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka.bootstrap_servers,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **client_security(settings.kafka),
    )
    try:
        await consumer.start()
        await consumer.topics()  # refresh metadata
        partitions = [
            TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if partitions:
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            await consumer.seek_to_beginning(*partitions)
            pending = {tp for tp in partitions if ends[tp] > 0}
            patience = settings.kafka.request_timeout_ms / 1000
            deadline = time.monotonic() + patience
            while pending:
                batches = await consumer.getmany(*pending, timeout_ms=500)
                for tp, records in batches.items():
                    found[tp.topic] += records
                    deadline = time.monotonic() + patience
                for tp in list(pending):
                    if await consumer.position(tp) >= ends[tp]:
                        pending.discard(tp)
                if pending and time.monotonic() > deadline:
                    raise ConfigurationError(f"no records from {settings.kafka.bootstrap_servers} in {patience:.0f} s")
    except KafkaError as exc:
        raise ConfigurationError(
            f"cannot read the outcome topics from {settings.kafka.bootstrap_servers}: {exc}"
        ) from exc
    finally:
        await consumer.stop()
    return [found[topic] for topic in topics]
