"""The client matrix on the real broker: records from librdkafka and kafkajs, in every codec they offer and in both
CloudEvents content modes, each get exactly one outcome, which those clients and the CloudEvents SDK read back.

The drivers are in ``tests/integration/clients/``; the README's "Clients" section sums up what this file tests.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from ecuapass_mock.server import MockServer
from gateway.bootstrap import build_gateway
from gateway.kafka import headers as h
from gateway.kafka.service import Gateway
from gateway.settings import Settings
from gateway.tools.dlq import Selection, replay
from gateway.tools.examples import Example
from tests.integration.clients import kafkajs, librdkafka
from tests.integration.clients.batches import stored_codecs
from tests.integration.clients.records import (
    MODES,
    Mode,
    Received,
    Record,
    answers,
    check_outcome_record,
    read_with_sdks,
    record,
    variant,
)

ACCEPTED = "authorization-request/accepted/minimal"
REJECTED = "authorization-request/rejected/R51-AUT-001--missing-proforma-and-dai"
INVALID = "authorization-request/invalid/GW-DISTRICT_UNKNOWN+GW-LITERAL_ERROR+GW-MISSING--three-errors"
HEADER_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
# Headers a back-end may add that the binding does not know: kept on dead letters and replays byte for byte.
FOREIGN_HEADERS: list[tuple[str, bytes | None]] = [("x-agency-run", b"erp-2026-12-04/42"), ("x-agency-empty", b"")]
# ... whatever they hold: Kafka header values are bytes, or null.
UNREADABLE_HEADERS: list[tuple[str, bytes | None]] = [
    ("x-agency-blob", b"\xff\xfe\x00 not UTF-8 \xc3\x28"),
    ("x-agency-null", None),
    *FOREIGN_HEADERS,
]


@asynccontextmanager
async def _gateway(settings: Settings, outcome_codec: str) -> AsyncIterator[Settings]:
    """A gateway on the test's topics whose outcomes are compressed with ``outcome_codec``; its settings."""
    compressed = settings.model_copy(
        update={"kafka": settings.kafka.model_copy(update={"compression_type": outcome_codec})}
    )
    running = build_gateway(compressed)
    await running.start()
    await running.wait_assigned()
    try:
        yield compressed
    finally:
        await running.stop()


def _one_each(records: list[Record], outcomes: list[Received]) -> dict[str, Received]:
    """The single acknowledgment or rejection of each record, checked as a record and through the SDK."""
    found = answers(outcomes)
    assert set(found) == {r.event_id for r in records}, (
        f"unanswered: {sorted({r.event_id for r in records} - set(found))}"
    )
    assert {event_id: len(got) for event_id, got in found.items() if len(got) != 1} == {}
    for got in found.values():
        check_outcome_record(got[0])
        read_with_sdks(got[0])
    return {event_id: got[0] for event_id, got in found.items()}


async def _outcomes(
    consumer: librdkafka.TopicReader, settings: Settings, records: list[Record], letters: int = 0
) -> list[Received]:
    """The acknowledgments and rejections read once every record has one; ``letters``: dead letters read so far."""
    ids = {r.event_id for r in records}
    filed = {settings.topics.acks, settings.topics.rejections}
    received = await consumer.until(lambda got: ids <= set(answers(r for r in got if r.topic in filed)), timeout_s=30)
    assert len(consumer.on(settings.topics.dlq)) == letters, consumer.on(settings.topics.dlq)
    return [r for r in received if r.topic in filed]


async def test_librdkafka_in_every_codec_idempotent_gets_one_outcome_each_on_the_input_partition(
    settings: Settings, example_by_name: dict[str, Example]
) -> None:
    records = [
        record(variant(example_by_name[ACCEPTED], f"{codec}{n}"), "structured", codec)
        for codec in librdkafka.CODECS
        for n in range(2)
    ]
    async with _gateway(settings, "zstd"):
        reader = librdkafka.TopicReader(settings, group=True)  # as an integrator's service reads: in a group
        try:
            partitions = await librdkafka.produce(settings, records)
            outcomes = _one_each(records, await _outcomes(reader, settings, records))
        finally:
            await reader.close()
    assert {event_id: outcome.outcome for event_id, outcome in outcomes.items()} == dict.fromkeys(
        partitions, "accepted"
    )
    # murmur2_random is the Java client's murmur2: the outcome lands on the partition number of its event.
    assert {event_id: outcome.partition for event_id, outcome in outcomes.items()} == partitions
    for r in records:
        assert outcomes[r.event_id].key == r.key
    # The records really travelled in each codec, and the outcomes in the gateway's.
    assert await stored_codecs(settings, settings.topics.input) == set(librdkafka.CODECS)
    assert await stored_codecs(settings, settings.topics.acks) == {"zstd"}


async def test_binary_mode_gets_the_outcome_and_codes_of_its_structured_twin(
    gateway: Gateway, settings: Settings, example_by_name: dict[str, Example]
) -> None:
    twins = {
        name: [record(variant(example_by_name[name], f"{tag}{n}"), mode, "lz4") for n, mode in enumerate(MODES)]
        for tag, name in (("a", ACCEPTED), ("r", REJECTED), ("i", INVALID))
    }
    records = [r for group in twins.values() for r in group]
    consumer = librdkafka.TopicReader(settings)
    try:
        partitions = await librdkafka.produce(settings, records)
        outcomes = _one_each(records, await _outcomes(consumer, settings, records))
    finally:
        await consumer.close()
    verdicts = {}
    for name, group in twins.items():
        by_mode = {}
        for r in group:
            outcome = outcomes[r.event_id]
            data = outcome.body()["data"]
            assert (outcome.key, outcome.partition, data["case_id"]) == (r.key, partitions[r.event_id], r.key.decode())
            if data.get("rejected_by") != "gateway":  # filed: every attribute came through, correlation id included
                assert outcome.body()["correlationid"] == r.event["correlationid"], r.mode
                assert data["local_reference"] == r.event["data"]["local_reference"], r.mode
            by_mode[r.mode] = (outcome.outcome, data.get("rejected_by"), data.get("stage"), outcome.codes())
        assert len(set(by_mode.values())) == 1, (name, by_mode)
        verdicts[name] = by_mode["structured"]
    assert verdicts == {
        ACCEPTED: ("accepted", None, None, ()),
        REJECTED: ("rejected", "customs", "BUSINESS", ("R51-AUT-001",)),
        INVALID: ("rejected", "gateway", "CONTRACT", ("GW-DISTRICT_UNKNOWN", "GW-LITERAL_ERROR", "GW-MISSING")),
    }


async def _set_faults(mock: MockServer, **faults: float) -> None:
    async with httpx.AsyncClient(base_url=mock.url) as client:
        (await client.put("/admin/faults", json=faults)).raise_for_status()


async def _dead_letters(consumer: librdkafka.TopicReader, settings: Settings, count: int) -> dict[str, Received]:
    """The dead letters read, by the ``ce_id`` header of the binary-mode record they keep."""
    dlq = settings.topics.dlq
    await consumer.until(lambda got: len([r for r in got if r.topic == dlq]) >= count, timeout_s=15)
    letters = consumer.on(dlq)
    assert len(letters) == count, letters
    return {(r.header("ce_id") or b"").decode(): r for r in letters}


def _check_letter(letter: Received, sent: Record, reason: str, content_type: bytes = b"application/json") -> None:
    assert letter.value == sent.value and letter.key == sent.key
    # Every header of the record, byte for byte and in order (null and invalid UTF-8 included), then the gateway's.
    assert letter.headers[: len(sent.headers)] == sent.headers, letter.headers
    assert letter.header(h.CONTENT_TYPE) == content_type  # the record's own, or one saying it is bytes
    assert letter.header(h.DLQ_REASON) == reason.encode()
    for name in (h.DLQ_FIRST_FAILURE, h.DLQ_LAST_FAILURE):
        value = letter.header(name)
        assert value is not None and HEADER_TIME.fullmatch(value.decode()), (name, value)


async def test_binary_dead_letters_keep_every_header_byte_for_byte(
    gateway: Gateway, settings: Settings, example_by_name: dict[str, Example]
) -> None:
    unknown_event = variant(example_by_name[ACCEPTED], "unknown") | {"type": "com.example.invoice.created.v1"}
    unknown = record(unknown_event, "binary", extra=UNREADABLE_HEADERS)
    not_json = replace(
        record(variant(example_by_name[ACCEPTED], "broken"), "binary", extra=UNREADABLE_HEADERS), value=b'{"local'
    )
    # A record with no content-type at all: its letter gets one, application/octet-stream.
    bare = Record(variant(example_by_name[ACCEPTED], "bare"), "structured", b"\x00\x01 not an event")
    consumer = librdkafka.TopicReader(settings)
    try:
        await librdkafka.produce(settings, [unknown, not_json, bare])
        letters = await _dead_letters(consumer, settings, 3)
    finally:
        await consumer.close()
    assert [r for r in consumer.received if r.topic != settings.topics.dlq] == []
    _check_letter(letters[unknown.event_id], unknown, "unknown_type")
    _check_letter(letters[not_json.event_id], not_json, "not_json")
    _check_letter(letters[""], bare, "not_json", content_type=b"application/octet-stream")


async def test_a_binary_dead_letter_replays_into_an_acknowledgment_once_customs_is_back(
    gateway: Gateway, settings: Settings, mock_endpoint: MockServer, example_by_name: dict[str, Example]
) -> None:
    unfiled = record(variant(example_by_name[ACCEPTED], "down"), "binary", extra=FOREIGN_HEADERS)
    await _set_faults(mock_endpoint, error_rate=1.0)  # customs answers 503: 3 attempts, then a dead letter
    consumer = librdkafka.TopicReader(settings)
    try:
        await librdkafka.produce(settings, [unfiled])
        letters = await _dead_letters(consumer, settings, 1)
        _check_letter(letters[unfiled.event_id], unfiled, "delivery_failed")
        await _set_faults(mock_endpoint)  # customs is back
        report = await replay(settings, Selection(reasons=frozenset({"delivery_failed"})))
        assert [letter.value for letter in report.replayed] == [unfiled.value]
        (ack,) = await _outcomes(consumer, settings, [unfiled], letters=1)  # the one replayed, no new one
    finally:
        await consumer.close()
    assert ack.outcome == "accepted" and ack.key == unfiled.key
    assert ack.body()["correlationid"] == unfiled.event["correlationid"]
    assert ack.header(h.REPLAY_COUNT) == b"1"
    check_outcome_record(ack)
    read_with_sdks(ack)
    # The replayed record is the binary-mode event as it was sent: its headers first, byte for byte.
    inputs = librdkafka.TopicReader(settings, topics=[settings.topics.input])
    try:
        await inputs.until(lambda got: len(got) >= 2, timeout_s=10, grace_s=0)
    finally:
        await inputs.close()
    (replayed,) = [r for r in inputs.received if r.header(h.REPLAY_COUNT) is not None]
    assert replayed.value == unfiled.value and replayed.key == unfiled.key
    assert replayed.headers[: len(unfiled.headers)] == unfiled.headers, replayed.headers
    assert not [name for name, _ in replayed.headers if name.startswith(h.DLQ_PREFIX)]


@pytest.fixture(scope="module")
def kafkajs_modules() -> Path:
    reason = kafkajs.missing_tools()
    if reason:
        pytest.skip(reason)
    return kafkajs.install()


async def test_kafkajs_produces_in_both_modes_and_codecs_and_consumes_one_outcome_each(
    settings: Settings, kafkajs_modules: Path, example_by_name: dict[str, Example]
) -> None:
    binary: Mode = "binary"
    cases = [(ACCEPTED, mode, codec) for codec in kafkajs.CODECS for mode in ("structured", binary)]
    cases += [(REJECTED, mode, "snappy") for mode in ("structured", binary)]
    sent = [
        (example_by_name[name], record(variant(example_by_name[name], f"js{n}"), mode, codec))
        for n, (name, mode, codec) in enumerate(cases)
    ]
    records = [r for _, r in sent]
    async with _gateway(settings, "snappy"):  # a codec kafkajs reads (it has no lz4 or zstd of its own)
        run = await kafkajs.run(kafkajs_modules, settings, records, expected=len(records))
    assert not run.timed_out, run.log
    assert [r for r in run.received if r.topic == settings.topics.dlq] == []
    outcomes = _one_each(records, run.received)
    assert {r.event_id: (outcomes[r.event_id].outcome, outcomes[r.event_id].codes()) for r in records} == {
        r.event_id: (example.expected, example.codes) for example, r in sent
    }
    # kafkajs 2's default partitioner is the Java client's murmur2 too.
    assert {event_id: outcome.partition for event_id, outcome in outcomes.items()} == run.partitions
    assert await stored_codecs(settings, settings.topics.input) == set(kafkajs.CODECS)
    assert await stored_codecs(settings, settings.topics.acks) == {"snappy"}
