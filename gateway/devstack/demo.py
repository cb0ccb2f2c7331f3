"""A simulated agency back-end: publishes the demo cases and prints what was filed and what customs answered.

It reads outcomes with a group-less consumer assigned to the outcome topics (no group join to wait for), matches
acknowledgments and rejections to cases by the answered event id and dead letters by their bytes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from lxml import etree

from gateway import documents
from gateway.devstack.notices import NotificationWatcher
from gateway.documents import decode
from gateway.errors import ContractError
from gateway.kafka import records
from gateway.kafka.records import Received
from gateway.kafka.security import client_security
from gateway.settings import Settings
from gateway.tools.examples import Example, examples, verdict


class OutcomeReader:
    """Reads the acks, rejections and dead-letter topics from their current end."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._outcomes = records.outcome_topics(settings.topics)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka.bootstrap_servers,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **client_security(settings.kafka),
        )

    async def start(self, *, from_beginning: bool = False) -> None:
        await self._consumer.start()
        await self._consumer.topics()  # refresh metadata
        partitions = [
            TopicPartition(topic, p)
            for topic in self._outcomes
            for p in sorted(self._consumer.partitions_for_topic(topic) or ())
        ]
        self._consumer.assign(partitions)
        if from_beginning:
            await self._consumer.seek_to_beginning(*partitions)
        else:
            await self._consumer.seek_to_end(*partitions)

    async def stop(self) -> None:
        await self._consumer.stop()

    async def read(self, timeout_ms: int = 200) -> list[Received]:
        batches = await self._consumer.getmany(timeout_ms=timeout_ms)
        return [
            records.received(self._outcomes[tp.topic], record) for tp, polled in batches.items() for record in polled
        ]


class CaseSender(Protocol):
    """What the back-end publishes with (aiokafka's producer has it)."""

    async def send(self, topic: str, value: bytes, key: bytes | None = None) -> Any: ...

    async def flush(self) -> None: ...


class OutcomeSource(Protocol):
    """What the back-end reads outcomes with, from where they ended when it started (``OutcomeReader``)."""

    async def read(self, timeout_ms: int = 200) -> list[Received]: ...


async def exchange(
    settings: Settings,
    cases: Sequence[Example],
    *,
    timeout_s: float = 60.0,
    payloads: dict[Example, bytes] | None = None,
    clients: tuple[CaseSender, OutcomeSource] | None = None,
) -> dict[Example, Received | None]:
    """Publish every case and collect each one's outcome (``None`` if none came in time).

    A case that builds on another example's official number (``{{name}}`` references) is published once that
    example has been acknowledged; the prerequisites are filed too and appear in the result, before their
    dependants. A case whose prerequisite was not accepted gets no outcome. ``clients``: a started producer and
    reader to use (the tests' in-memory broker), instead of connecting to ``settings.kafka``.
    """
    if clients is not None:
        return await _exchange(settings, cases, timeout_s, payloads, *clients)
    reader = OutcomeReader(settings)
    await reader.start()
    # Compressed, as agencies' back-ends usually produce: the contract suite run against the images proves that the
    # gateway there reads a codec that needs a library (zstd: cramjam), not only gzip.
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka.bootstrap_servers,
        linger_ms=5,
        compression_type="zstd",
        **client_security(settings.kafka),
    )
    await producer.start()
    try:
        return await _exchange(settings, cases, timeout_s, payloads, producer, reader)
    finally:
        await producer.stop()
        await reader.stop()


async def _exchange(
    settings: Settings,
    cases: Sequence[Example],
    timeout_s: float,
    payloads: dict[Example, bytes] | None,
    producer: CaseSender,
    reader: OutcomeSource,
) -> dict[Example, Received | None]:
    by_name = {case.name: case for case in examples()} | {case.name: case for case in cases}
    ordered = _with_prerequisites(cases, by_name)
    results: dict[Example, Received | None] = dict.fromkeys(ordered)
    numbers: dict[str, str] = {}
    payloads = {} if payloads is None else payloads
    pending = list(ordered)
    deadline = time.monotonic() + timeout_s
    while pending and time.monotonic() < deadline:
        ready = [case for case in pending if all(name in numbers for name in case.requires())]
        if not ready:
            break  # the rest wait for prerequisites that were not accepted
        pending = [case for case in pending if case not in ready]
        await _publish_and_collect(settings, producer, reader, ready, numbers, results, payloads, deadline)
    return results


def procedure_order(cases: Sequence[Example]) -> list[Example]:
    """Longest chains first, so that the demo walks a case through its whole procedure in one stretch:
    authorization -> DAE 51 -> warehouse entry, then the standalone cases."""
    by_name = {case.name: case for case in examples()}

    def depth(case: Example) -> int:
        return max((1 + depth(by_name[name]) for name in case.requires()), default=0)

    return sorted(cases, key=lambda case: -depth(case))


def _with_prerequisites(cases: Sequence[Example], by_name: dict[str, Example]) -> list[Example]:
    ordered: list[Example] = []

    def visit(case: Example) -> None:
        for name in case.requires():
            visit(by_name[name])
        if case not in ordered:
            ordered.append(case)

    for case in cases:
        visit(case)
    return ordered


async def _publish_and_collect(
    settings: Settings,
    producer: CaseSender,
    reader: OutcomeSource,
    wave: Sequence[Example],
    numbers: dict[str, str],
    results: dict[Example, Received | None],
    payloads: dict[Example, bytes],
    deadline: float,
) -> None:
    sent: dict[bytes, Example] = {}
    for example in wave:
        payload = example.payload(numbers)
        sent[payload] = example
        payloads[example] = payload
        await producer.send(settings.topics.input, payload, key=example.key())
    await producer.flush()
    by_event = {example.event_id(): example for example in wave if example.event_id()}
    waiting = set(wave)
    while waiting and time.monotonic() < deadline:
        for received in await reader.read():
            case: Example | None
            if received.outcome == "dead-letter":
                case = sent.get(received.value)
            else:
                data = received.body().get("data")
                case = by_event.get(data.get("answered_event_id")) if isinstance(data, dict) else None
            if case is None or case not in waiting:
                continue
            waiting.discard(case)
            results[case] = received
            data = received.body().get("data") if received.outcome == "accepted" else None
            if isinstance(data, dict):
                numbers[case.name] = str(data["official_number"])


async def play(settings: Settings, cases: Sequence[Example], out: Callable[[str], None] = print) -> bool:
    """Run the demo; True when every case reached its expected outcome and, with the intake on, every accepted
    warehouse entry its exit authorised (customs' notifications, printed as they arrive)."""
    watcher = NotificationWatcher(settings) if settings.intake.enabled else None
    if watcher is not None:
        await watcher.start()  # from the topic's end now: only this demo's notifications follow
    try:
        passed = await _play(settings, cases, out)
        return await _notified(watcher, passed, out) if watcher is not None else passed is not None
    finally:
        if watcher is not None:
            await watcher.stop()


async def _notified(watcher: NotificationWatcher, entries: list[str] | None, out: Callable[[str], None]) -> bool:
    if entries is None:
        return False
    out(f"\nCustoms' notifications, until the {len(entries)} accepted warehouse entries have their exit authorised:")
    missing = await watcher.until_exits(entries, out)
    if missing:
        out(f"FAILED — no exit-authorized notification in time for warehouse entries {', '.join(sorted(missing))}")
        return False
    out(f"Every one of the {len(entries)} accepted warehouse entries reached exit-authorized.")
    return True


async def _play(settings: Settings, cases: Sequence[Example], out: Callable[[str], None]) -> list[str] | None:
    """The cases and their outcomes; the official numbers of the warehouse entries accepted when every case
    reached its expected outcome, ``None`` otherwise."""
    payloads: dict[Example, bytes] = {}
    results = await exchange(settings, cases, payloads=payloads)
    passed = 0
    for case, received in results.items():
        out(f"\n── {case.name}")
        _show_document(case, payloads.get(case), out)
        problem = "no outcome within the time limit" if received is None else verdict(case, received)
        if received is not None:
            _show_reply(received, out)
        out(
            f"   expected {case.expected}{' ' + '+'.join(case.codes) if case.codes else ''}: "
            + ("OK" if problem is None else f"FAILED — {problem}")
        )
        passed += problem is None
    out(f"\n{passed} of {len(results)} demo cases reached their expected outcome.")
    if passed != len(results):
        return None
    return [
        str(data["official_number"])
        for received in results.values()
        if received is not None
        and received.outcome == "accepted"
        and isinstance(data := received.body().get("data"), dict)
        and data.get("document") == "warehouse-entry"
    ]


def _show_document(case: Example, payload: bytes | None, out: Callable[[str], None]) -> None:
    if payload is None:
        out("   not sent: a document it builds on was not accepted")
        return
    try:
        document = documents.build(decode(payload))
    except ContractError:
        out(f"   sent: event {case.path.name} (the gateway refuses it before filing)")
        return
    pretty = etree.tostring(document.root, pretty_print=True, encoding="unicode")
    out(f"   filed {document.kind} as message {document.message_id}:")
    out("\n".join("      " + line for line in pretty.rstrip().splitlines()))


def _show_reply(received: Received, out: Callable[[str], None]) -> None:
    if received.outcome == "dead-letter":
        letter = received.letter
        out(f"   dead letter: {letter.reason} ({letter.error_class}): {letter.detail}")
        return
    data = received.body().get("data")
    assert isinstance(data, dict)
    if received.outcome == "accepted":
        extra = "".join(
            f"  {label} {data[key]}"
            for key, label in (("valid_until", "valid until"), ("inspection_channel", "channel"))
            if data.get(key)
        )
        out(f"   reply: ACCEPTED  submission {data['submission_number']}  number {data['official_number']}{extra}")
        for warning in data.get("warnings") or []:
            out(f"      warning {warning['code']} at {warning['path']}: {warning['message_es']}")
        return
    out(f"   reply: REJECTED by {data['rejected_by']} at stage {data['stage']}")
    for error in data.get("errors") or []:
        value = "" if error.get("value") is None else f" (value {json.dumps(error['value'], ensure_ascii=False)})"
        out(f"      {error['code']} at {error['path']}{value}: {error['message_es']}")
