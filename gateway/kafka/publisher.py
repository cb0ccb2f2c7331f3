"""The confirmed publish of outcomes: an outcome is out before its offset may be committed, or its partition stops.

    Outcome + the record it answers -> records.encode -> producer.send_and_wait, until the broker confirms
        transient failure (the broker is away, busy, electing a leader) -> the same record again, every
            ``publish_retry_s``, for as long as it takes: an outage never turns into dead letters
        permanent refusal (``permanent()``: the record or the topic is refused) ->
            an acknowledgment or a rejection -> a dead letter of the answered record instead, reason
                ``unpublishable``, ``dlq.error.class`` the client's error: the record is kept for ``dlq replay``,
                the partition moves on
            a dead letter (the record's own, or the one that replaced its outcome) -> nothing is published: the
                caller holds the partition (``Consumption.hold``). It is paused, reported stalled (``/readyz``,
                ``ecuapass_gateway_partition_stalled_seconds``, the alert), its commits stop below the record, and
                the record stays in the topic, delivered again when the gateway restarts. Logged at CRITICAL with
                what to fix.

Which errors are permanent is a closed list: those saying that *this record or this topic* is refused (too large,
an invalid or unauthorised topic, a timestamp or a format the broker does not take, a codec the client lacks).
Everything else aiokafka raises (connection errors, timeouts, leadership changes, unknown topic metadata while a
topic is created, throttling, authentication) is an outage and retried; aiokafka's ``retriable`` flag is never
overruled towards "permanent". An exception that is not the Kafka client's nor the network's (a value the client
cannot send) would fail the same way again: permanent too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka import errors as kafka

from gateway.kafka import records
from gateway.kafka.security import client_security
from gateway.outcomes import DeadLetter, Outcome
from gateway.pipeline import InboundRecord
from gateway.settings import KafkaSettings, Settings

log = logging.getLogger(__name__)

# The dead-letter reason of a record whose acknowledgment or rejection the broker refused for good.
UNPUBLISHABLE = "unpublishable"

# The record, or the topic, is refused: sending it again cannot help.
REFUSALS: tuple[type[Exception], ...] = (
    kafka.MessageSizeTooLargeError,
    kafka.RecordTooLargeError,
    kafka.RecordListTooLargeError,
    kafka.InvalidTopicError,
    kafka.TopicAuthorizationFailedError,
    kafka.ClusterAuthorizationFailedError,
    kafka.InvalidMessageError,
    kafka.CorruptRecordException,
    kafka.InvalidTimestampError,
    kafka.PolicyViolationError,
    kafka.UnsupportedForMessageFormatError,
    kafka.UnsupportedCodecError,
    kafka.InvalidRequiredAcksError,
)


def permanent(exc: BaseException) -> bool:
    """Whether publishing failed for good (see the module docstring): ``False`` means try again."""
    if isinstance(exc, REFUSALS):
        return True
    return not isinstance(exc, kafka.KafkaError | OSError | TimeoutError)


class Producer(Protocol):
    """What the publisher needs of a Kafka producer: aiokafka's has it; the tests' in-memory one too."""

    async def send_and_wait(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, *, headers: Any = None
    ) -> Any: ...


def new_producer(kafka: KafkaSettings) -> AIOKafkaProducer:
    """The gateway's producer: every write acknowledged by all in-sync replicas, records up to
    ``max_message_bytes``."""
    return AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap_servers,
        client_id=kafka.client_id,
        acks="all",
        linger_ms=5,
        max_request_size=kafka.max_message_bytes,
        request_timeout_ms=kafka.request_timeout_ms,
        compression_type=None if kafka.compression_type == "none" else kafka.compression_type,
        **client_security(kafka),
    )


def _now() -> datetime:
    return datetime.now(UTC)


class OutcomePublisher:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = _now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._topics = settings.topics
        self._retry_s = settings.processing.publish_retry_s
        self._clock = clock
        self._sleep = sleep
        self._producer: Producer | None = None

    def attach(self, producer: Producer) -> None:
        """The started producer, before the first record can arrive."""
        self._producer = producer

    async def publish(
        self, outcome: Outcome, answered: InboundRecord, *, traceparent: str | None = None
    ) -> Outcome | None:
        """Publish ``outcome``, confirmed; what was published: ``outcome``, the dead letter that replaced it, or
        ``None`` when the broker refused even the dead letter (the caller holds the partition)."""
        refused = await self._send(outcome, answered, traceparent)
        if refused is None:
            return outcome
        if isinstance(outcome, DeadLetter):
            _refused_letter(outcome, answered, refused)
            return None
        letter = self._unpublishable(outcome, answered, refused)
        log.error(
            "the %s answering %s:%s@%s was refused for good (%s: %s); its record goes to the dead letters instead",
            type(outcome).__name__.lower(),
            answered.topic,
            answered.partition,
            answered.offset,
            type(refused).__name__,
            refused,
        )
        refused_again = await self._send(letter, answered, traceparent)
        if refused_again is None:
            return letter
        _refused_letter(letter, answered, refused_again)
        return None

    async def _send(self, outcome: Outcome, answered: InboundRecord, traceparent: str | None) -> Exception | None:
        """Until the broker confirms (``None``), or refuses for good (the error)."""
        assert self._producer is not None, "records are consumed only once the producer has started"
        out = records.encode(outcome, answered, self._topics, now=self._clock(), traceparent=traceparent)
        while True:
            try:
                await self._producer.send_and_wait(out.topic, out.value, key=out.key, headers=out.headers)
                return None
            except Exception as exc:
                if permanent(exc):
                    return exc
                log.exception("could not publish an outcome to %s; trying again", out.topic)
                await self._sleep(self._retry_s)

    def _unpublishable(self, outcome: Outcome, answered: InboundRecord, refused: Exception) -> DeadLetter:
        assert not isinstance(outcome, DeadLetter)
        data = outcome.data
        return DeadLetter(
            value=answered.value,
            key=answered.key,
            reason=UNPUBLISHABLE,
            error_class=type(refused).__name__,
            detail=f"its {type(outcome).__name__.lower()} ({data.document or 'no document'}) could not be "
            f"published: {refused}"[:1000],
            first_failure=self._clock(),
            case_id=outcome.subject,
            event_type=data.answered_event_type,
            document=data.document,
        )


def _refused_letter(letter: DeadLetter, answered: InboundRecord, refused: Exception) -> None:
    log.critical(
        "the dead letter (%s) of %s:%s@%s was refused for good (%s: %s): partition %s:%s stops at offset %s, "
        "paused and reported stalled; the record stays in the topic and nothing past it is committed. Fix the "
        "cause (GATEWAY_KAFKA__MAX_MESSAGE_BYTES, the dead-letter topic and its ACLs) and restart the gateway",
        letter.reason,
        answered.topic,
        answered.partition,
        answered.offset,
        type(refused).__name__,
        refused,
        answered.topic,
        answered.partition,
        answered.offset,
    )
