"""What the gateway writes: outcome records' topics, keys and headers, and dead letters that keep the original."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from adapters.fake_customs_endpoint import FakeCustomsEndpoint
from gateway.kafka import headers as h
from gateway.kafka.records import Received, encode
from gateway.outcomes import DeadLetter
from gateway.pipeline import InboundRecord, Pipeline, ReadFailure
from gateway.settings import Settings, TopicSettings
from gateway.tools import dlq
from gateway.tools.examples import Example

TOPICS = TopicSettings()
FIRST = datetime(2026, 12, 4, 3, 28, 3, 120_456, tzinfo=UTC)
NOW = datetime(2026, 12, 4, 3, 28, 4, 5_000, tzinfo=UTC)
RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TRACE = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"


async def _outcome(record: InboundRecord) -> object:
    return await Pipeline(FakeCustomsEndpoint(), source="urn:test", clock=lambda: FIRST).process(record)


async def test_acknowledgments_carry_the_content_type_and_the_passed_headers_only(
    example_by_name: dict[str, Example],
) -> None:
    example = example_by_name["authorization-request/accepted/minimal"]
    inbound = InboundRecord(
        example.payload(),
        example.key(),
        (("traceparent", b"00-old"), ("x-agency", b"ours"), (h.REPLAY_COUNT, b"2")),
        "in",
        1,
        5,
    )
    outcome = await _outcome(inbound)
    out = encode(outcome, inbound, TOPICS, now=NOW, traceparent=TRACE)  # type: ignore[arg-type]
    assert out.topic == TOPICS.acks and out.key == b"CASE-2026-0001"
    assert out.headers == [
        ("content-type", b"application/cloudevents+json; charset=utf-8"),
        (h.REPLAY_COUNT, b"2"),
        ("traceparent", TRACE.encode()),
    ]
    assert "correlation_id" not in {name for name, _ in out.headers}


async def test_a_dead_letter_keeps_every_original_header_byte_for_byte_then_says_why() -> None:
    original = (
        ("ce_specversion", b"1.0"),
        ("x-binary", b"\xff\x00\xfe"),
        ("x-null", None),
        ("x-twice", b"1"),
        ("x-twice", b"2"),
        ("content-type", b"application/json"),
        ("dlq.reason", b"forged by the producer"),
    )
    inbound = InboundRecord(b"not json", b"CASE-9", original, "in", 2, 41)
    letter = await _outcome(inbound)
    assert isinstance(letter, DeadLetter)
    out = encode(letter, inbound, TOPICS, now=NOW, traceparent=TRACE)
    assert out.topic == TOPICS.dlq and out.value == b"not json" and out.key == b"CASE-9"
    assert out.headers[:6] == list(original[:6])  # the producer's own dlq.* header is not kept
    ours = dict(out.headers[6:])
    assert ours[h.DLQ_REASON] == b"not_json"  # binary mode (ce_specversion), the value is no JSON
    assert ours[h.DLQ_ORIGINAL_TOPIC] == b"in" and ours[h.DLQ_ORIGINAL_PARTITION] == b"2"
    assert ours[h.DLQ_ORIGINAL_OFFSET] == b"41" and ours[h.DLQ_ORIGINAL_KEY] == b"CASE-9"
    assert ours["traceparent"] == TRACE.encode()  # the original had none
    assert "content-type" not in ours  # the original's stands
    assert [name for name, _ in out.headers].count(h.DLQ_REASON) == 1


def test_dead_letters_use_one_time_format_and_a_real_content_type() -> None:
    inbound = InboundRecord(b"\x00", None, (), "in", 0, 3)
    letter = DeadLetter(b"\x00", None, "not_json", "UndecodableEvent", "bad", first_failure=FIRST)
    headers = dict(encode(letter, inbound, TOPICS, now=NOW).headers)
    assert headers["content-type"] == b"application/octet-stream"
    assert headers[h.DLQ_FIRST_FAILURE] == b"2026-12-04T03:28:03.120Z"
    assert headers[h.DLQ_LAST_FAILURE] == b"2026-12-04T03:28:04.005Z"
    assert all(RFC3339_MS.match(headers[name].decode()) for name in (h.DLQ_FIRST_FAILURE, h.DLQ_LAST_FAILURE))
    assert h.DLQ_ORIGINAL_KEY not in headers


async def test_an_unreadable_range_is_one_empty_letter_naming_its_offsets() -> None:
    inbound = InboundRecord(
        b"", None, (), "in", 1, 100, last_offset=104, unreadable=ReadFailure("UnsupportedCodecError", "no codec 5")
    )
    letter = await _outcome(inbound)
    assert isinstance(letter, DeadLetter)
    headers = dict(encode(letter, inbound, TOPICS, now=NOW).headers)
    assert headers[h.DLQ_REASON] == b"unreadable" and headers[h.DLQ_ERROR_CLASS] == b"UnsupportedCodecError"
    assert headers[h.DLQ_ORIGINAL_OFFSET] == b"100" and headers[h.DLQ_ORIGINAL_LAST_OFFSET] == b"104"
    assert headers[h.DLQ_DETAIL] == b"no codec 5"


async def test_replay_puts_back_the_original_headers_and_drops_the_gateways() -> None:
    for original in (
        (("ce_specversion", b"1.0"), ("ce_id", b"e-1"), ("x-bytes", b"\xff"), ("content-type", b"application/json")),
        (("x-only", b"1"),),  # no content type: the one the gateway added goes
    ):
        inbound = InboundRecord(b"{}", b"CASE-1", original, "in", 0, 9)
        letter = await _outcome(inbound)
        out = encode(letter, inbound, TOPICS, now=NOW)  # type: ignore[arg-type]
        record = Received("dead-letter", out.value, h.as_text(out.headers), out.key, tuple(out.headers), 0, 77, NOW)
        replayed = dlq._headers(Settings(), record, "replay")
        assert replayed == [
            *original,
            (h.REPLAY_COUNT, b"1"),
            (h.REPLAYED_FROM, f"{TOPICS.dlq}:0:77".encode()),
        ]
        quarantined = dlq._headers(Settings(), record, "quarantine")
        assert quarantined == [*out.headers, (h.DLQ_QUARANTINED_FROM, f"{TOPICS.dlq}:0:77".encode())]


def test_header_time_format_is_utc_whatever_the_offset() -> None:
    from datetime import timedelta, timezone

    quito = datetime(2026, 12, 3, 22, 28, 3, 999_999, tzinfo=timezone(timedelta(hours=-5)))
    assert h.timestamp(quito) == "2026-12-04T03:28:03.999Z"
