"""The running gateway: a FastStream Kafka subscriber feeding the pipeline, and the outcome publisher.

Delivery is at-least-once, and the gateway owns its commits: the subscriber's acknowledgement policy is
``MANUAL`` (FastStream's Kafka default, ``ACK_FIRST``, commits before the handler runs and loses events on a crash).
Records arrive in polls; each poll is processed (different cases concurrently, one case's events in order), every
outcome is published and confirmed by the broker, and only then is the poll's position committed — one commit per
poll, never one per event. If outcomes cannot be published the poll is rewound and read again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from gateway.kafka.security import broker_security
from gateway.kafka.topics import ensure_topics
from gateway.outcomes import Acknowledgment, DeadLetter, Outcome
from gateway.pipeline import InboundRecord, Pipeline
from gateway.ports import CustomsEndpoint
from gateway.settings import Settings

log = logging.getLogger(__name__)

CLOUDEVENTS_JSON = "application/cloudevents+json; charset=utf-8"


class Gateway:
    def __init__(self, settings: Settings, pipeline: Pipeline, endpoint: CustomsEndpoint) -> None:
        self.settings = settings
        self._pipeline = pipeline
        self._endpoint = endpoint
        kafka, processing = settings.kafka, settings.processing
        self.broker = KafkaBroker(
            kafka.bootstrap_servers,
            client_id=kafka.client_id,
            security=broker_security(kafka),
            request_timeout_ms=kafka.request_timeout_ms,
            max_request_size=kafka.max_message_bytes,
            acks="all",
            linger_ms=5,
            graceful_timeout=30.0,
            logger=logging.getLogger("gateway.broker"),  # FastStream's own logger prints to stdout, unformatted
            log_level=logging.DEBUG,  # FastStream logs every message at this level: keep it out of INFO
        )
        self.subscriber = self.broker.subscriber(
            settings.topics.input,
            batch=True,
            max_records=processing.batch_max_records,
            batch_timeout_ms=processing.batch_timeout_ms,
            group_id=kafka.group_id,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset=kafka.auto_offset_reset,
            session_timeout_ms=kafka.session_timeout_ms,
            heartbeat_interval_ms=kafka.heartbeat_interval_ms,
            max_partition_fetch_bytes=max(1_048_576, processing.max_event_bytes * 2),
            title="case-events",
            description="Canonical régimen-51 case events (CloudEvents 1.0, structured JSON), keyed by case id.",
        )

        async def handle(message: KafkaMessage) -> None:
            await self._handle_poll(message)

        self.subscriber(handle)

    # -- lifecycle ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self.settings.topics.create_missing:
            await ensure_topics(self.settings)
        await self.broker.start()
        log.info(
            "gateway consuming %s as group %s from %s",
            self.settings.topics.input,
            self.settings.kafka.group_id,
            self.settings.kafka.bootstrap_servers,
        )

    async def stop(self) -> None:
        await self.broker.stop()
        await self._endpoint.aclose()

    def assigned_partitions(self) -> set[tuple[str, int]]:
        consumer = self.subscriber.consumer
        if consumer is None:
            return set()
        return {(tp.topic, tp.partition) for tp in consumer.assignment()}

    async def wait_assigned(self, timeout_s: float = 30.0) -> None:
        """Until the consumer group has given this instance its partitions (start-up, tests)."""
        deadline = time.monotonic() + timeout_s
        while not self.assigned_partitions():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no partition of {self.settings.topics.input} assigned in {timeout_s} s")
            await asyncio.sleep(0.05)

    # -- one poll -------------------------------------------------------------------------------------------

    async def _handle_poll(self, message: Any) -> None:
        records: Sequence[ConsumerRecord] = message.raw_message
        outcomes = await self._process(records)
        try:
            await self._publish(records, outcomes)
        except Exception:
            log.exception("could not publish %d outcomes; the poll will be read again", len(outcomes))
            await asyncio.sleep(self.settings.processing.publish_retry_s)
            await message.nack()
            return
        await message.ack()

    async def _process(self, records: Sequence[ConsumerRecord]) -> list[Outcome]:
        """Every record's outcome, in record order; one case's records in order, cases concurrently."""
        results: list[Outcome | None] = [None] * len(records)
        chains: dict[object, list[int]] = {}
        for index, record in enumerate(records):
            chains.setdefault(record.key if record.key is not None else ("no-key", index), []).append(index)
        slots = asyncio.Semaphore(self.settings.processing.max_in_flight)

        async def run(chain: list[int]) -> None:
            for index in chain:
                async with slots:
                    results[index] = await self._pipeline.process(_inbound(records[index]))

        await asyncio.gather(*(run(chain) for chain in chains.values()))
        return [outcome for outcome in results if outcome is not None]

    async def _publish(self, records: Sequence[ConsumerRecord], outcomes: Sequence[Outcome]) -> None:
        pending = []
        for record, outcome in zip(records, outcomes, strict=True):
            topic, value, key, headers = self._message(record, outcome)
            pending.append(await self.broker.publish(value, topic, key=key, headers=headers, no_confirm=True))
        await asyncio.gather(*pending)  # every outcome confirmed by the broker before the commit

    def _message(self, record: ConsumerRecord, outcome: Outcome) -> tuple[str, bytes, bytes | None, dict[str, str]]:
        topics = self.settings.topics
        headers = {k: v for k, v in _headers(record).items() if k == "traceparent"}
        if isinstance(outcome, DeadLetter):
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            headers |= outcome.headers | {
                "dlq.reason": outcome.reason,
                "dlq.error.class": outcome.error_class,
                "dlq.detail": outcome.detail,
                "dlq.attempts": str(outcome.attempts),
                "dlq.first.failure": outcome.first_failure.isoformat(),
                "dlq.last.failure": now,
            }
            if outcome.key is not None:
                headers["dlq.original.key"] = outcome.key.decode("utf-8", "replace")
            return topics.dlq, outcome.value, outcome.key, headers
        topic = topics.acks if isinstance(outcome, Acknowledgment) else topics.rejections
        headers["content-type"] = CLOUDEVENTS_JSON
        return topic, outcome.model_dump_json().encode(), outcome.subject.encode(), headers


def _headers(record: ConsumerRecord) -> dict[str, str]:
    return {key: value.decode("utf-8", "replace") for key, value in (record.headers or ())}


def _inbound(record: ConsumerRecord) -> InboundRecord:
    return InboundRecord(
        value=record.value or b"",
        key=record.key,
        headers=_headers(record),
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
    )
