"""Outcome records: the one encoder of what the gateway writes, and the one decoder of what tools read back.

    Outcome (from the pipeline) + the record it answers -> encode -> OutboundRecord -> the publisher
    a record of the acks, rejections or dead-letter topic -> received -> Received (dlq replay, case, tail, demo, tests)

Acknowledgments and rejections are structured CloudEvents keyed by case id, with ``content-type`` and the input's
trace and replay headers. A dead letter carries the answered record's key and value and every one of its headers
byte for byte, in order (a producer's own ``dlq.*`` headers excepted: the gateway's say why), then the ``dlq.*``
headers, which ``Received.letter`` reads back as a ``Letter``. ``gateway.kafka.headers`` holds the names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from aiokafka import ConsumerRecord

from gateway.kafka import headers as h
from gateway.outcomes import Acknowledgment, DeadLetter, Outcome
from gateway.settings import TopicSettings

if TYPE_CHECKING:
    from gateway.pipeline import InboundRecord

OutcomeName = Literal["accepted", "rejected", "dead-letter"]
OUTCOMES: tuple[OutcomeName, ...] = ("accepted", "rejected", "dead-letter")


@dataclass(frozen=True, slots=True)
class OutboundRecord:
    topic: str
    value: bytes
    key: bytes | None
    headers: list[tuple[str, bytes | None]]


# -- writing --------------------------------------------------------------------------------------------------


def encode(
    outcome: Outcome, answered: InboundRecord, topics: TopicSettings, *, now: datetime, traceparent: str | None = None
) -> OutboundRecord:
    """The record that publishes ``outcome``; ``traceparent`` is the trace context of the processing."""
    if isinstance(outcome, DeadLetter):
        return _dead_letter(outcome, answered, topics.dlq, now, traceparent)
    passed: list[tuple[str, bytes | None]] = [(k, v) for k, v in answered.headers if k in h.PASSED]
    if traceparent is not None:
        passed = [(k, v) for k, v in passed if k != h.TRACEPARENT] + [(h.TRACEPARENT, traceparent.encode())]
    return OutboundRecord(
        topic=topics.acks if isinstance(outcome, Acknowledgment) else topics.rejections,
        value=outcome.model_dump_json().encode(),
        key=outcome.subject.encode(),
        headers=[(h.CONTENT_TYPE, h.CLOUDEVENTS_JSON.encode()), *passed],
    )


def _dead_letter(
    letter: DeadLetter, answered: InboundRecord, topic: str, now: datetime, traceparent: str | None
) -> OutboundRecord:
    original = [(k, v) for k, v in answered.headers if not k.startswith(h.DLQ_PREFIX)]
    names = {k for k, _ in original}
    added: list[tuple[str, str]] = []
    if h.CONTENT_TYPE not in names:
        added.append((h.CONTENT_TYPE, h.OCTET_STREAM))
    if traceparent is not None and h.TRACEPARENT not in names:
        added.append((h.TRACEPARENT, traceparent))
    added += [
        (h.DLQ_REASON, letter.reason),
        (h.DLQ_ERROR_CLASS, letter.error_class),
        (h.DLQ_DETAIL, letter.detail),
        (h.DLQ_ATTEMPTS, str(letter.attempts)),
        (h.DLQ_FIRST_FAILURE, h.timestamp(letter.first_failure)),
        (h.DLQ_LAST_FAILURE, h.timestamp(now)),
        (h.DLQ_ORIGINAL_TOPIC, answered.topic),
        (h.DLQ_ORIGINAL_PARTITION, str(answered.partition)),
        (h.DLQ_ORIGINAL_OFFSET, str(answered.offset)),
    ]
    if answered.last_offset is not None:
        added.append((h.DLQ_ORIGINAL_LAST_OFFSET, str(answered.last_offset)))
    if letter.key is not None:
        added.append((h.DLQ_ORIGINAL_KEY, letter.key.decode("utf-8", "replace")))
    return OutboundRecord(topic=topic, value=letter.value, key=letter.key, headers=[*original, *h.encoded(added)])


# -- reading back ---------------------------------------------------------------------------------------------


def outcome_topics(topics: TopicSettings) -> dict[str, OutcomeName]:
    """The outcome topics, each with the outcome it holds, in the order of ``OUTCOMES``."""
    return {topics.acks: "accepted", topics.rejections: "rejected", topics.dlq: "dead-letter"}


@dataclass(frozen=True, slots=True)
class Letter:
    """The ``dlq.*`` headers of a dead letter (and the replay headers it carries), read back; ``None`` where a
    header is absent or not what the gateway writes."""

    reason: str | None
    error_class: str | None
    detail: str | None
    attempts: int | None
    first_failure: datetime | None
    last_failure: datetime | None
    original_topic: str | None
    original_partition: int | None
    original_offset: int | None
    original_last_offset: int | None
    original_key: str | None
    quarantined_from: str | None

    @property
    def original_record(self) -> str | None:
        """``topic:partition:offset`` of the input record the letter keeps."""
        parts = (self.original_topic, self.original_partition, self.original_offset)
        return ":".join(map(str, parts)) if all(part is not None for part in parts) else None


@dataclass(frozen=True, slots=True)
class Received:
    """An outcome record as read back from Kafka: which outcome (by its topic), the value, the headers (as text for
    reading, and as consumed for copies), the key and where and when it was written."""

    outcome: OutcomeName
    value: bytes
    headers: dict[str, str]  # as text, the last value of a repeated name winning
    key: bytes | None = None
    raw_headers: h.Headers = ()
    partition: int = -1
    offset: int = -1
    timestamp: datetime | None = None

    def body(self) -> dict[str, object]:
        """The JSON value (an acknowledgment's or rejection's CloudEvent); ``{}`` when it is no JSON object."""
        try:
            parsed = json.loads(self.value)
        except (ValueError, UnicodeDecodeError):
            return {}
        return parsed if isinstance(parsed, dict) else {}

    @property
    def case_id(self) -> str | None:
        """The case: the key, or for a dead letter the original record's key (``dlq.original.key``)."""
        original = self.headers.get(h.DLQ_ORIGINAL_KEY) if self.outcome == "dead-letter" else None
        if original is not None:
            return original
        return self.key.decode("utf-8", "replace") if self.key else None

    @property
    def replays(self) -> int:
        """How many times ``dlq replay`` sent the answered record back (0 when never)."""
        return _int(self.headers.get(h.REPLAY_COUNT)) or 0

    @property
    def replayed_from(self) -> str | None:
        return self.headers.get(h.REPLAYED_FROM)

    @property
    def letter(self) -> Letter:
        """The ``dlq.*`` headers (all ``None`` on an acknowledgment or a rejection)."""
        get = self.headers.get
        return Letter(
            reason=get(h.DLQ_REASON),
            error_class=get(h.DLQ_ERROR_CLASS),
            detail=get(h.DLQ_DETAIL),
            attempts=_int(get(h.DLQ_ATTEMPTS)),
            first_failure=aware_time(get(h.DLQ_FIRST_FAILURE)),
            last_failure=aware_time(get(h.DLQ_LAST_FAILURE)),
            original_topic=get(h.DLQ_ORIGINAL_TOPIC),
            original_partition=_int(get(h.DLQ_ORIGINAL_PARTITION)),
            original_offset=_int(get(h.DLQ_ORIGINAL_OFFSET)),
            original_last_offset=_int(get(h.DLQ_ORIGINAL_LAST_OFFSET)),
            original_key=get(h.DLQ_ORIGINAL_KEY),
            quarantined_from=get(h.DLQ_QUARANTINED_FROM),
        )


def received(outcome: OutcomeName, record: ConsumerRecord) -> Received:
    """A consumed record of an outcome topic."""
    raw = tuple(record.headers or ())
    return Received(
        outcome=outcome,
        value=record.value or b"",
        headers=h.as_text(raw),
        key=record.key,
        raw_headers=raw,
        partition=record.partition,
        offset=record.offset,
        timestamp=datetime.fromtimestamp(record.timestamp / 1000, tz=UTC) if record.timestamp is not None else None,
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def aware_time(value: object) -> datetime | None:
    """An ISO 8601 time as written in a header or a CloudEvent's ``time`` (UTC when it has no offset), or ``None``
    for anything else."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
