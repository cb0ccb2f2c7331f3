"""Outcomes as Kafka records: the one encoder of what the gateway writes (topics, keys, values, headers).

    Outcome (from the pipeline) + the record it answers -> OutboundRecord -> the producer

Acknowledgments and rejections are structured CloudEvents keyed by case id, with ``content-type`` and the input's
trace and replay headers. A dead letter carries the answered record's key and value and every one of its headers
byte for byte, in order (a producer's own ``dlq.*`` headers excepted: the gateway's say why), then the ``dlq.*``
headers; see ``gateway.kafka.headers`` for the names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.kafka import headers as h
from gateway.outcomes import Acknowledgment, DeadLetter, Outcome
from gateway.pipeline import InboundRecord
from gateway.settings import TopicSettings


@dataclass(frozen=True, slots=True)
class OutboundRecord:
    topic: str
    value: bytes
    key: bytes | None
    headers: list[tuple[str, bytes | None]]


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
