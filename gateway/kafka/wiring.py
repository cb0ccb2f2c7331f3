"""Broker wiring: the FastStream broker, the input subscriber and the outcome channels, built without connecting.

    wire(settings, on_batch, listener) -> Wiring(broker, subscriber, publishers)

The one place the gateway's Kafka side is declared: the composition root (``gateway.bootstrap``) hands each poll to
the gateway's handler and the rebalances to its consumer control; the AsyncAPI generator (``gateway.tools.asyncapi``)
describes the same broker without building a gateway (no endpoint, no client, nothing connects).

The subscriber takes polls as they came (``batch=True``): FastStream neither parses nor decodes them (see
``_unparsed`` and ``_undecoded``), and it never acknowledges (``AckPolicy.MANUAL``; FastStream's Kafka default,
``ACK_FIRST``, commits before the handler runs and loses events on a crash): the gateway commits itself
(``gateway.kafka.consumption``). The three publishers are declared for the AsyncAPI document only: outcomes go
through the gateway's own producer (``gateway.kafka.publisher``), since FastStream's publishers add headers of their
own (a random ``correlation_id``, an empty ``content-type``) and take header values as text, while a dead letter
must keep the original headers byte for byte.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRebalanceListener, ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.message import FAKE_CONSUMER
from faststream.kafka.message import KafkaMessage as PolledRecords

from gateway.kafka.security import broker_security
from gateway.outcomes import Acknowledgment, Rejection
from gateway.settings import Settings

# What receives each poll: the records as the client returned them. It must not block (it schedules the work).
BatchHandler = Callable[[Sequence[ConsumerRecord]], None]


@dataclass(frozen=True, slots=True)
class Wiring:
    broker: KafkaBroker
    subscriber: Any  # FastStream's batch subscriber of the input topic; ``.consumer`` is aiokafka's, once started
    publishers: dict[str, Any]  # by topic: FastStream publishers, declared for the AsyncAPI document only
    listener: ConsumerRebalanceListener | None


def _described_only(batch: Sequence[ConsumerRecord]) -> None:
    raise RuntimeError("this broker was wired to be described (AsyncAPI), not run")


def wire(
    settings: Settings, on_batch: BatchHandler = _described_only, listener: ConsumerRebalanceListener | None = None
) -> Wiring:
    """The broker, its input subscriber (each poll to ``on_batch``, rebalances to ``listener``) and the outcome
    channels. Nothing connects until ``broker.start()``."""
    kafka, processing = settings.kafka, settings.processing
    broker = KafkaBroker(
        kafka.bootstrap_servers,
        client_id=kafka.client_id,
        security=broker_security(kafka),
        request_timeout_ms=kafka.request_timeout_ms,
        graceful_timeout=30.0,
        logger=logging.getLogger("gateway.broker"),  # FastStream's own logger prints to stdout, unformatted
        log_level=logging.DEBUG,  # FastStream logs every message at this level: keep it out of INFO
    )
    subscriber = broker.subscriber(
        settings.topics.input,
        batch=True,
        max_records=processing.batch_max_records,
        batch_timeout_ms=processing.batch_timeout_ms,
        group_id=kafka.group_id,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset=kafka.auto_offset_reset,
        session_timeout_ms=kafka.session_timeout_ms,
        heartbeat_interval_ms=kafka.heartbeat_interval_ms,
        fetch_max_wait_ms=kafka.fetch_max_wait_ms,
        max_partition_fetch_bytes=max(1_048_576, processing.max_event_bytes * 2),
        listener=listener,
        parser=_unparsed,
        decoder=_undecoded,
        title="case-events",
        description="Canonical régimen-51 case events (CloudEvents 1.0, structured or binary content mode), keyed "
        "by case id.",
    )

    async def handle(message: KafkaMessage) -> None:
        on_batch(message.raw_message)

    subscriber(handle)
    return Wiring(broker, subscriber, _outcome_channels(broker, settings), listener)


def _outcome_channels(broker: KafkaBroker, settings: Settings) -> dict[str, Any]:
    topics = settings.topics
    return {
        topics.acks: broker.publisher(
            topics.acks,
            title="acknowledgments",
            schema=Acknowledgment,
            description="Documents customs accepted, with their official numbers (CloudEvents), keyed by case id.",
        ),
        topics.rejections: broker.publisher(
            topics.rejections,
            title="rejections",
            schema=Rejection,
            description="Documents refused by the gateway (contract) or by customs, every error with its field.",
        ),
        topics.dlq: broker.publisher(
            topics.dlq,
            title="dead-letters",
            schema=bytes,
            description="Records that could not be processed, byte for byte, with dlq.* headers saying why.",
        ),
    }


async def _unparsed(records: tuple[ConsumerRecord, ...]) -> PolledRecords:
    """The poll as it came. FastStream's own batch parser decodes every header value of every record as strict UTF-8:
    one header that is not UTF-8, or has no value (Kafka allows both), would fail the whole poll before the gateway
    saw it — the records of every partition in it lost, not dead-lettered. Headers are the pipeline's to read."""
    first, last = records[0], records[-1]
    return PolledRecords(
        raw_message=records,
        body=b"",
        message_id=f"{first.offset}-{last.offset}-{first.timestamp}",
        consumer=FAKE_CONSUMER,  # the gateway commits itself; FastStream never acknowledges (AckPolicy.MANUAL)
    )


async def _undecoded(message: Any) -> None:
    """The handler reads the raw records; FastStream must not decode them first. It would JSON-decode every body
    of the poll, and one record that breaks ``json.loads`` (5000 levels deep, or not JSON under a JSON
    content-type header) would fail the whole poll before the gateway saw it: records lost, not dead-lettered."""
    return None
