"""The confirmed publish: outages retried, permanent refusals told apart (every aiokafka error walked), an outcome
the broker refuses dead-lettered, a dead letter it refuses reported (the caller holds the partition)."""

from __future__ import annotations

import asyncio
import inspect
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import errors as kafka

from adapters.fake_customs_endpoint import FakeCustomsEndpoint
from gateway.kafka import headers as h
from gateway.kafka.publisher import REFUSALS, UNPUBLISHABLE, OutcomePublisher, permanent
from gateway.outcomes import Acknowledgment, DeadLetter, Outcome
from gateway.pipeline import InboundRecord, Pipeline
from gateway.settings import Settings
from gateway.tools.examples import Example

NOW = datetime(2026, 12, 4, 3, 28, 4, tzinfo=UTC)
OUTAGES = (
    kafka.KafkaConnectionError,
    kafka.KafkaTimeoutError,
    kafka.RequestTimedOutError,
    kafka.NodeNotReadyError,
    kafka.NotLeaderForPartitionError,
    kafka.LeaderNotAvailableError,
    kafka.BrokerNotAvailableError,
    kafka.KafkaUnavailableError,
    kafka.NoBrokersAvailable,
    kafka.UnknownTopicOrPartitionError,  # metadata not there yet: a topic being created
    kafka.NotEnoughReplicasError,
    kafka.AuthenticationFailedError,  # credentials being rotated: retried, not a reason to dead-letter
)


def _kafka_errors() -> list[type[kafka.KafkaError]]:
    return [cls for _, cls in inspect.getmembers(kafka, inspect.isclass) if issubclass(cls, kafka.KafkaError)]


@pytest.mark.parametrize("error", _kafka_errors(), ids=lambda cls: cls.__name__)
def test_every_aiokafka_error_is_either_a_refusal_or_an_outage(error: type[kafka.KafkaError]) -> None:
    assert permanent(error("x")) == issubclass(error, REFUSALS)
    if getattr(error, "retriable", False):
        assert not permanent(error("x"))  # aiokafka's own "retry this" is never overruled


@pytest.mark.parametrize("error", [*OUTAGES, ConnectionResetError, OSError, TimeoutError], ids=lambda c: c.__name__)
def test_outages_are_retried(error: type[Exception]) -> None:
    assert not permanent(error("x"))


@pytest.mark.parametrize(
    "error", [kafka.MessageSizeTooLargeError, kafka.TopicAuthorizationFailedError, kafka.InvalidTopicError, TypeError]
)
def test_a_record_or_a_topic_refused_and_a_value_the_client_cannot_send_are_permanent(error: type[Exception]) -> None:
    assert permanent(error("x"))


class Producer:
    """Answers each send with the next of ``answers`` (an error to raise, or ``None``: confirmed)."""

    def __init__(self, *answers: Exception | None) -> None:
        self._answers = list(answers)
        self.sent: list[tuple[str, bytes | None, bytes | None, Any]] = []

    async def send_and_wait(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, *, headers: Any = None
    ) -> None:
        self.sent.append((topic, value, key, headers))
        answer = self._answers.pop(0) if self._answers else None
        if answer is not None:
            raise answer


async def _no_sleep(seconds: float) -> None:
    return None


def _publisher(producer: Producer) -> OutcomePublisher:
    publisher = OutcomePublisher(Settings(), clock=lambda: NOW, sleep=_no_sleep)
    publisher.attach(producer)
    return publisher


async def _answered(example: Example) -> tuple[InboundRecord, Outcome]:
    record = InboundRecord(example.payload(), example.key(), (("x-agency", b"ours"),), "in", 1, 41)
    return record, await Pipeline(FakeCustomsEndpoint(), source="urn:test", clock=lambda: NOW).process(record)


async def test_an_outage_is_retried_until_the_broker_confirms(example_by_name: dict[str, Example]) -> None:
    record, ack = await _answered(example_by_name["authorization-request/accepted/minimal"])
    producer = Producer(kafka.KafkaConnectionError("down"), kafka.RequestTimedOutError("slow"), None)
    assert await _publisher(producer).publish(ack, record) is ack
    assert [topic for topic, *_ in producer.sent] == [Settings().topics.acks] * 3


async def test_an_acknowledgment_refused_for_good_becomes_a_dead_letter_of_its_event(
    example_by_name: dict[str, Example], caplog: pytest.LogCaptureFixture
) -> None:
    record, ack = await _answered(example_by_name["authorization-request/accepted/minimal"])
    assert isinstance(ack, Acknowledgment)
    producer = Producer(kafka.TopicAuthorizationFailedError("acks: not authorised"), None)
    with caplog.at_level(logging.ERROR, logger="gateway.kafka.publisher"):
        published = await _publisher(producer).publish(ack, record)
    assert isinstance(published, DeadLetter)
    assert (published.reason, published.error_class) == (UNPUBLISHABLE, "TopicAuthorizationFailedError")
    assert published.event_type == ack.data.answered_event_type and published.case_id == ack.subject
    (_, (topic, value, key, headers)) = producer.sent
    assert (topic, value, key) == (Settings().topics.dlq, record.value, record.key)  # the event, byte for byte
    assert headers[0] == ("x-agency", b"ours") and (h.DLQ_REASON, UNPUBLISHABLE.encode()) in headers
    assert [r.levelname for r in caplog.records if r.name == "gateway.kafka.publisher"] == ["ERROR"]


async def test_a_dead_letter_refused_for_good_is_reported_and_nothing_is_published(
    example_by_name: dict[str, Example], caplog: pytest.LogCaptureFixture
) -> None:
    record, letter = await _answered(example_by_name["dead-letter/not_json--truncated"])
    assert isinstance(letter, DeadLetter)
    producer = Producer(kafka.MessageSizeTooLargeError("too large"))
    with caplog.at_level(logging.ERROR, logger="gateway.kafka.publisher"):
        assert await _publisher(producer).publish(letter, record) is None
    assert len(producer.sent) == 1  # refused once, never looped
    (critical,) = [r for r in caplog.records if r.name == "gateway.kafka.publisher"]
    assert critical.levelname == "CRITICAL" and "in:1" in critical.getMessage() and "41" in critical.getMessage()


async def test_an_outcome_whose_dead_letter_is_refused_too_is_not_published(
    example_by_name: dict[str, Example],
) -> None:
    record, ack = await _answered(example_by_name["authorization-request/accepted/minimal"])
    producer = Producer(kafka.InvalidTopicError("acks"), kafka.InvalidTopicError("dlq"))
    assert await _publisher(producer).publish(ack, record) is None
    assert len(producer.sent) == 2


async def test_a_cancelled_publish_is_not_swallowed(example_by_name: dict[str, Example]) -> None:
    record, ack = await _answered(example_by_name["authorization-request/accepted/minimal"])

    started = asyncio.Event()

    class Hanging(Producer):
        async def send_and_wait(
            self, topic: str, value: bytes | None = None, key: bytes | None = None, *, headers: Any = None
        ) -> None:
            started.set()
            await asyncio.Event().wait()

    publishing = asyncio.create_task(_publisher(Hanging()).publish(ack, record))
    await started.wait()
    publishing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await publishing
