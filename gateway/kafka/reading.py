"""Reading topics from their beginning to where they end: the outcome and dead-letter tools' one reader.

The tools reading Kafka (``dlq replay``, ``case``, ``tail``) tell a broker that cannot be reached, or stops
answering, from one that refuses them as configured: ``reading_errors`` turns the first into a
``KafkaUnavailableError`` (exit 3) and the second into a ``ConfigurationError`` (exit 2).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError

from gateway.errors import ConfigurationError, KafkaUnavailableError
from gateway.kafka.security import client_security, kafka_errors
from gateway.settings import KafkaSettings, Settings


async def read_to_end(settings: Settings, topics: Sequence[str]) -> list[list[ConsumerRecord]]:
    """Every record of each topic (all partitions, in offset order) up to where it ended when called.

    The reported end only says when to stop; whole fetched batches are kept. Tansu reports a partition's end as
    the first offset of its last record batch + 1, so cutting records at the reported end (as
    a plain reader would) loses the rest of that batch, typically the latest outcomes. A broker that
    stops answering for ``request_timeout_ms`` ends the read with a ``KafkaUnavailableError``.
    """
    found: dict[str, list[ConsumerRecord]] = {topic: [] for topic in topics}
    kafka = settings.kafka
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers,
        request_timeout_ms=kafka.request_timeout_ms,  # aiokafka's own default is 40 s, whatever the settings say
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **client_security(kafka),
    )
    try:
        async with reading_errors(kafka, "read the outcome topics"):
            async with kafka_errors(kafka):  # a client that cannot start: refused as configured, or unreachable
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
                patience = kafka.request_timeout_ms / 1000
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
                        raise KafkaUnavailableError(
                            f"cannot read the outcome topics from {kafka.bootstrap_servers}: no records in "
                            f"{patience:.0f} s",
                            bootstrap_servers=kafka.bootstrap_servers,
                        )
    finally:
        await consumer.stop()
    return [found[topic] for topic in topics]


@contextlib.asynccontextmanager
async def reading_errors(kafka: KafkaSettings, doing: str) -> AsyncIterator[None]:
    """Around a reader's reads (its start inside ``kafka_errors``, which diagnoses why a client cannot start):
    lost connections and timeouts are an outage, what else the broker answers (authorization refused...) a
    configuration problem."""
    try:
        yield
    except KafkaError as exc:
        message = f"cannot {doing} from {kafka.bootstrap_servers}: {type(exc).__name__}: {exc}"
        if isinstance(exc, KafkaConnectionError | KafkaTimeoutError) or exc.retriable:
            raise KafkaUnavailableError(message, bootstrap_servers=kafka.bootstrap_servers) from exc
        raise ConfigurationError(message) from exc
