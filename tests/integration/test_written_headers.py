"""The topics and headers really written, against the ones ``contracts/asyncapi.yaml`` describes.

One gateway on the real broker, filing with the real mock, is given every kind of record it answers: an event it
acknowledges, one customs rejects, one its own checks reject, and records it dead-letters for each decoding reason,
in both CloudEvents content modes, plus two events whose filing fails for good (the mock answers 503). ``dlq
replay`` then sends those two back (now acknowledged and rejected, with the replay headers), sends the ``not_json``
letters back (dead-lettered again, with the replay headers), and quarantines letters replayed once and letters never
replayed. Last, alone, comes a record whose publisher added headers that are not text (bytes that are not UTF-8, a
null value): the document says the gateway ignores such headers on input and keeps them on dead letters.

Every topic the settings name, and every topic of the test's suffix on the broker, is then read back and compared
with the document, which names the default topics: numbered checks below, every disagreement listed at once.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the environment
from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # no types-jsonschema here

from ecuapass_mock.server import MockServer
from gateway.events import binding
from gateway.kafka import headers as h
from gateway.kafka.reading import read_to_end
from gateway.kafka.service import Gateway
from gateway.settings import Settings, TopicSettings
from gateway.tools import asyncapi
from gateway.tools.dlq import Selection, replay
from gateway.tools.examples import Example
from tests.harness.waiting import eventually

Headers = list[tuple[str, bytes | None]]

# FastStream's header, which the gateway must never write (so no name of gateway/kafka/headers.py).
FRAMEWORK_CORRELATION_ID = "correlation_id"
# A header of the publisher's own: dead letters keep it, and no document can list it.
PUBLISHERS_HEADER = "x-agency-batch"
# Per channel (settings field), headers the document describes that this run cannot make anything write, and why.
NOT_PRODUCED: dict[str, dict[str, str]] = {
    "acks": {},
    "rejections": {},
    "dlq": {h.DLQ_ORIGINAL_LAST_OFFSET: "only on the letter of an unreadable batch, which a test producer cannot make"},
    "quarantine": {h.DLQ_ORIGINAL_LAST_OFFSET: "only on a quarantined letter of an unreadable batch"},
}
# The document: "any other header is ignored" on input; dead letters keep every header byte for byte.
UNDECODABLE_HEADERS: Headers = [(PUBLISHERS_HEADER, b"\xff\xfe not UTF-8"), (f"{PUBLISHERS_HEADER}-none", None)]
OUTCOMES = ("acks", "rejections", "dlq", "quarantine")  # settings fields of the channels the gateway and replay write
LETTERS = ("dlq", "quarantine")
TIMEOUT_S = 20.0
UNDECODABLE_TIMEOUT_S = 5.0  # its outcome comes with the next poll, if at all


@dataclass(frozen=True, slots=True)
class Sent:
    key: bytes
    value: bytes
    headers: Headers


def _traceparent(n: int) -> bytes:
    return f"00-{0x4BF92F3577B34DA6A3CE929D0E0E0000 + n:032x}-{0x00F067AA0BA90000 + n:016x}-01".encode()


def _structured(example: Example, headers: Headers) -> Sent:
    return Sent(example.key(), example.payload(), headers)


def _binary(example: Example, *, value: bytes | None = None, extra: Headers | None = None) -> Sent:
    """The event in binary content mode: attributes as ``ce_*`` headers, ``content-type`` JSON, ``data`` the value."""
    event = json.loads(example.payload())
    data = event.pop("data")
    event.pop("datacontenttype", None)
    headers: Headers = [(h.CONTENT_TYPE, h.JSON.encode())]
    headers += [(f"{h.CE_PREFIX}{name}", str(attribute).encode()) for name, attribute in event.items()]
    body = json.dumps(data, ensure_ascii=False).encode() if value is None else value
    return Sent(example.key(), body, headers + (extra or []))


def _records(ex: Mapping[str, Example]) -> tuple[list[Sent], list[Sent], Sent]:
    """Events whose filing will fail for good, every other kind of record, and a record whose headers of its
    publisher's own hold bytes that are not text (Kafka header values are any bytes, or null)."""
    cloudevents = (h.CONTENT_TYPE, h.CLOUDEVENTS_JSON.encode())
    failing = [
        _structured(
            ex["authorization-request/accepted/full-multiline"], [cloudevents, (h.TRACEPARENT, _traceparent(1))]
        ),
        _structured(
            ex["authorization-request/rejected/R51-AUT-001--missing-proforma-and-dai"],
            [cloudevents, (h.TRACEPARENT, _traceparent(2))],
        ),
    ]
    others = [
        _structured(ex["authorization-request/accepted/minimal"], [cloudevents, (h.TRACEPARENT, _traceparent(3))]),
        _binary(ex["authorization-request/rejected/R51-AUT-003--return-after-two-years"]),  # customs rejects
        _structured(ex["authorization-request/invalid/GW-RUC_INVALID--natural-person-bad-cedula"], []),  # contract
        _structured(ex["dead-letter/not_json--truncated"], []),
        _structured(
            ex["dead-letter/not_a_cloudevent--plain-json"],
            [cloudevents, (PUBLISHERS_HEADER, b"7"), (h.TRACEPARENT, _traceparent(5))],
        ),
        _structured(ex["dead-letter/unknown_type--invoice-event"], [cloudevents, (h.TRACEPARENT, _traceparent(4))]),
        _binary(ex["export-declaration/accepted/minimal"], value=b'{"local_reference": '),  # not_json
        _binary(  # not_a_cloudevent: an attribute given twice
            ex["warehouse-entry/accepted/minimal"], extra=[(f"{h.CE_PREFIX}id", b"again"), (PUBLISHERS_HEADER, b"8")]
        ),
        _binary(ex["dead-letter/unknown_type--invoice-event"]),
    ]
    undecodable = _binary(ex["dead-letter/unknown_type--invoice-event"], extra=UNDECODABLE_HEADERS)
    return failing, others, undecodable


async def _produce(settings: Settings, records: Iterable[Sent]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, linger_ms=5)
    await producer.start()
    try:
        for record in records:
            await producer.send(settings.topics.input, record.value, key=record.key, headers=record.headers)
        await producer.flush()
    finally:
        await producer.stop()


async def _wait_for_outcomes(settings: Settings, expected: int, timeout_s: float = TIMEOUT_S) -> int:
    """Until acks, rejections and dead letters hold ``expected`` records in all (one per input record), or the time
    is up; returns how many they hold."""
    topics = [settings.topics.acks, settings.topics.rejections, settings.topics.dlq]

    async def held() -> int:
        return sum(len(records) for records in await read_to_end(settings, topics))

    async def enough() -> int:
        found = await held()
        assert found >= expected
        return found

    try:
        return await eventually(enough, timeout_s=timeout_s, interval_s=0.2)
    except AssertionError:
        return await held()


async def _set_faults(mock: MockServer, faults: dict[str, object]) -> None:
    async with httpx.AsyncClient(base_url=mock.url) as client:
        (await client.put("/admin/faults", json=faults)).raise_for_status()


async def _exercise(settings: Settings, mock: MockServer, ex: Mapping[str, Example]) -> None:
    """Make the gateway and ``dlq replay`` write every kind of record they write."""
    failing, others, undecodable = _records(ex)
    await _set_faults(mock, {"error_rate": 1.0})
    await _produce(settings, failing)
    assert await _wait_for_outcomes(settings, len(failing)) == len(failing)
    await _set_faults(mock, {})
    await _produce(settings, others)
    expected = len(failing) + len(others)
    assert await _wait_for_outcomes(settings, expected) == expected
    sent_back = await replay(settings, Selection(reasons=frozenset({"delivery_failed", "not_json"})), max_replays=3)
    assert len(sent_back.replayed) == 4 and sent_back.quarantined == []
    expected += len(sent_back.replayed)
    assert await _wait_for_outcomes(settings, expected) == expected
    failed_again = await replay(settings, Selection(reasons=frozenset({"not_json"})), max_replays=1)
    assert failed_again.replayed == [] and [letter.replays for letter in failed_again.quarantined] == [1, 1]
    never_replayed = await replay(settings, Selection(reasons=frozenset({"not_a_cloudevent"})), max_replays=0)
    assert [letter.replays for letter in never_replayed.quarantined] == [0, 0]

    # The run made what it claims to: every outcome kind, every dead-letter reason it aims at, replays.
    topics = settings.topics
    acks, rejections, dlq, quarantine = await read_to_end(
        settings, [topics.acks, topics.rejections, topics.dlq, topics.quarantine]
    )
    reasons = Counter(h.text(_headers(letter), h.DLQ_REASON) for letter in dlq)
    assert reasons == {"delivery_failed": 2, "not_json": 4, "not_a_cloudevent": 2, "unknown_type": 2}
    assert sum(1 for letter in dlq if h.text(_headers(letter), h.REPLAY_COUNT)) == 2
    assert [len(acks), len(rejections), len(quarantine)] == [2, 3, 4]
    assert sum(1 for record in acks + rejections if h.text(_headers(record), h.REPLAY_COUNT)) == 2

    # Last and alone, so that nothing else is lost with it if the gateway cannot take it: check 6 says.
    await _produce(settings, [undecodable])
    await _wait_for_outcomes(settings, expected + 1, timeout_s=UNDECODABLE_TIMEOUT_S)


async def _read_back(settings: Settings) -> dict[str, list[ConsumerRecord]]:
    """Every record of every topic the settings name and of every topic of this test on the broker."""
    suffix = "-" + settings.topics.input.rsplit("-", 1)[1]
    named = set(_default_names(settings))
    assert all(topic.endswith(suffix) for topic in named)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap_servers)
    await admin.start()
    try:
        on_broker = {topic for topic in await admin.list_topics() if topic.endswith(suffix)}
    finally:
        await admin.close()
    topics = sorted(named | on_broker)
    return dict(zip(topics, await read_to_end(settings, topics), strict=True))


def _default_names(settings: Settings) -> dict[str, str]:
    """The test's topic names -> the default names, which the document uses; field by field."""
    defaults = TopicSettings()
    fields = [name for name in TopicSettings.model_fields if isinstance(getattr(defaults, name), str)]
    return {getattr(settings.topics, name): getattr(defaults, name) for name in fields}


def _header_forms(doc: Mapping[str, Any]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per topic and header name, the schema of the header's value in each message that lists it."""
    forms: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for channel in doc["channels"].values():
        per_name = forms.setdefault(channel["address"], {})
        for reference in channel["messages"].values():
            message = asyncapi.resolve(doc, reference["$ref"])
            for name, schema in message.get("headers", {}).get("properties", {}).items():
                per_name.setdefault(name, []).append(schema)
    return forms


def _coordinates(topic: str, record: ConsumerRecord) -> str:
    return f"{topic}:{record.partition}:{record.offset}"


def _headers(record: ConsumerRecord) -> Headers:
    return list(record.headers or ())


def _letter_problems(letter: ConsumerRecord, original: ConsumerRecord) -> list[str]:
    """A dead letter against the input record it holds: its key, value and headers byte for byte and in order, then
    only what the document lets the gateway add where the original had none (``content-type: application/octet-stream``,
    the processing's ``traceparent``), then ``dlq.*`` headers only."""
    headers = _headers(letter)
    first = next((i for i, (name, _) in enumerate(headers) if name.startswith(h.DLQ_PREFIX)), len(headers))
    before, after = headers[:first], headers[first:]
    kept = _headers(original)
    problems = []
    if before[: len(kept)] != kept:
        problems.append(f"headers before the first {h.DLQ_PREFIX}* one: {before}; the original's: {kept}")
    had = {name for name, _ in kept}
    addable = [name for name in (h.CONTENT_TYPE, h.TRACEPARENT) if name not in had]
    added = before[len(kept) :]
    if [name for name, _ in added] != [name for name in addable if name in {n for n, _ in added}]:
        problems.append(f"added after the original's headers: {added}; only {addable}, in that order, may be")
    if h.CONTENT_TYPE in addable and (h.CONTENT_TYPE, h.OCTET_STREAM.encode()) not in added:
        problems.append(f"the original had no {h.CONTENT_TYPE}, the letter has no {h.OCTET_STREAM} one: {added}")
    if any(not name.startswith(h.DLQ_PREFIX) for name, _ in after):
        problems.append(f"headers among the {h.DLQ_PREFIX}* ones that are not {h.DLQ_PREFIX}*: {after}")
    if (letter.key, letter.value) != (original.key, original.value):
        problems.append("its key or value is not the original record's")
    return problems


def _problems(
    doc: Mapping[str, Any], settings: Settings, read: Mapping[str, list[ConsumerRecord]]
) -> dict[str, list[str]]:
    """Every disagreement between the records read and the document, by check."""
    defaults = _default_names(settings)
    named = {field: getattr(settings.topics, field) for field in ("input", *OUTCOMES)}
    by_field = {field: read[topic] for field, topic in named.items()}
    described, required = asyncapi.described_headers(doc), asyncapi.required_headers(doc)
    open_topics, forms = asyncapi.open_header_topics(doc), _header_forms(doc)
    inputs = {(r.partition, r.offset): r for r in by_field["input"]}
    letters = {_coordinates(named["dlq"], r): r for r in by_field["dlq"]}
    problems: dict[str, list[str]] = defaultdict(list)

    # 1. Every topic written to is a channel's address (under its default name).
    for topic, records in read.items():
        if records and defaults.get(topic) not in asyncapi.described_topics(doc):
            problems["1 topic written that no channel has"].append(f"{topic} (default name {defaults.get(topic)})")

    def original_of(record: ConsumerRecord) -> ConsumerRecord | None:
        """The input record a dead letter holds; for a quarantined letter, its dead letter's."""
        from_letter = h.text(_headers(record), h.DLQ_QUARANTINED_FROM)
        if from_letter is not None:
            record = letters.get(from_letter, record)
        where = _original_at(record, named["input"])
        return None if where is None else inputs.get(where)

    seen: dict[str, set[str]] = defaultdict(set)
    for field in OUTCOMES:
        channel = defaults[named[field]]
        for record in by_field[field]:
            headers, where = _headers(record), _coordinates(named[field], record)
            names = {name for name, _ in headers}
            seen[field] |= names
            brought: set[str] = set()  # the original record's header names, on an open channel
            if channel in open_topics:
                original = original_of(record)
                if original is None:
                    problems[f"2 {field}: the input record it holds is not found"].append(where)
                else:
                    brought = {name for name, _ in _headers(original)}
                    if field == "dlq":
                        for problem in _letter_problems(record, original):
                            problems["2 dlq: not the original record's headers first"].append(f"{where}: {problem}")
            if field == "quarantine":
                letter = letters.get(h.text(headers, h.DLQ_QUARANTINED_FROM) or "")
                if letter is None or headers[:-1] != _headers(letter) or headers[-1][0] != h.DLQ_QUARANTINED_FROM:
                    problems["2 quarantine: not its dead letter's headers, then dlq.quarantined.from"].append(where)
            # 2. Every header is described for the channel, or (open channels only) came with the original record.
            if undescribed := names - described[channel] - brought:
                problems[f"2 {field}: headers the document does not describe"].append(f"{where}: {sorted(undescribed)}")
            # 3. Every header the channel requires is there.
            if missing := required[channel] - names:
                problems[f"3 {field}: required headers missing"].append(f"{where}: {sorted(missing)}")
            # And what the gateway or the replay tool wrote has the form the document gives it.
            for name, raw in headers:
                if name in brought or name not in forms[channel]:
                    continue
                value = None if raw is None else raw.decode("utf-8", "replace")
                if value is None or not any(_conforms(value, form) for form in forms[channel][name]):
                    problems[f"{field}: header values not of the described form"].append(f"{where}: {name}={value!r}")

    # 4. Every header described for an outcome channel was written at least once, or is named as not produced.
    for field in OUTCOMES:
        if unseen := described[defaults[named[field]]] - seen[field] - set(NOT_PRODUCED[field]):
            problems[f"4 {field}: described but never written"].append(str(sorted(unseen)))

    # 5. No framework correlation_id anywhere; a dead letter always says its content type.
    for topic, records in read.items():
        for record in records:
            if any(name == FRAMEWORK_CORRELATION_ID for name, _ in _headers(record)):
                problems[f"5 {FRAMEWORK_CORRELATION_ID} written"].append(_coordinates(topic, record))
    for field in LETTERS:
        for record in by_field[field]:
            if not h.text(_headers(record), h.CONTENT_TYPE):
                problems[f"5 {field}: no or an empty {h.CONTENT_TYPE}"].append(_coordinates(named[field], record))
    # 6. Every input record got an outcome ("exactly one outcome per consumed event"), whatever its other headers.
    lettered = {_original_at(letter, named["input"]) for letter in by_field["dlq"]}
    answered = {json.loads(r.value)["data"]["answered_event_id"] for r in by_field["acks"] + by_field["rejections"]}
    for at, record in inputs.items():
        if at not in lettered and _event_id(record) not in answered:
            problems["6 input records that got no outcome"].append(
                f"{_coordinates(named['input'], record)}: headers {_headers(record)}"
            )
    return dict(problems)


def _original_at(letter: ConsumerRecord, input_topic: str) -> tuple[int, int] | None:
    """Partition and offset of the input record a dead letter holds."""
    headers = _headers(letter)
    partition, offset = h.text(headers, h.DLQ_ORIGINAL_PARTITION), h.text(headers, h.DLQ_ORIGINAL_OFFSET)
    if h.text(headers, h.DLQ_ORIGINAL_TOPIC) != input_topic or partition is None or offset is None:
        return None
    return int(partition), int(offset)


def _event_id(record: ConsumerRecord) -> str | None:
    if binding.content_mode(_headers(record)) == "binary":
        return h.text(_headers(record), f"{h.CE_PREFIX}id")
    try:
        event = json.loads(record.value or b"")
    except ValueError:
        return None
    return str(event.get("id")) if isinstance(event, dict) else None


def _conforms(value: str, form: Mapping[str, Any]) -> bool:
    """``value`` against a header's described form (jsonschema does not check formats without extra packages)."""
    if not Draft202012Validator(form).is_valid(value):
        return False
    if form.get("format") == "date-time":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return False
    return True


async def test_written_topics_and_headers_are_the_ones_the_asyncapi_document_describes(
    gateway: Gateway, settings: Settings, mock_endpoint: MockServer, example_by_name: dict[str, Example]
) -> None:
    await _exercise(settings, mock_endpoint, example_by_name)
    read = await _read_back(settings)

    doc = yaml.safe_load(asyncapi.path().read_text(encoding="utf-8"))
    defaults = _default_names(settings)
    # The run wrote every channel.
    assert {defaults.get(topic) for topic, records in read.items() if records} >= asyncapi.described_topics(doc)

    assert _problems(doc, settings, read) == {}
