"""``dlq replay`` on the real broker: filters, dry run, the loop guard, and a replay the gateway then files."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from gateway.kafka.service import Gateway
from gateway.settings import Settings
from gateway.tools.dlq import Selection, replay
from gateway.tools.examples import Example
from tests.integration.conftest import collect, gateway_environment

NOW = datetime.now(UTC)


async def _dead_letter(
    settings: Settings, value: bytes, key: str, reason: str, error_class: str, at: datetime, replays: int = 0
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers)
    await producer.start()
    headers = [
        ("dlq.reason", reason.encode()),
        ("dlq.error.class", error_class.encode()),
        ("dlq.original.key", key.encode()),
    ]
    if replays:
        headers.append(("ecuapass.replay.count", str(replays).encode()))
    try:
        await producer.send_and_wait(
            settings.topics.dlq, value, key=key.encode(), headers=headers, timestamp_ms=int(at.timestamp() * 1000)
        )
    finally:
        await producer.stop()


async def _read(settings: Settings, topic: str) -> list[tuple[bytes, dict[str, str]]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka.bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(settings.topics.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        batches = await consumer.getmany(timeout_ms=1000)
        return [
            (record.value or b"", {k: v.decode() for k, v in record.headers})
            for records in batches.values()
            for record in records
        ]
    finally:
        await consumer.stop()


async def _letters(settings: Settings) -> None:
    await _dead_letter(settings, b"{broken", "CASE-A", "not_json", "UndecodableEvent", NOW - timedelta(hours=2))
    await _dead_letter(
        settings, b"event-b", "CASE-B", "delivery_failed", "PermanentDeliveryError", NOW - timedelta(hours=1)
    )
    await _dead_letter(settings, b"event-c", "CASE-C", "delivery_failed", "PermanentDeliveryError", NOW)
    await _dead_letter(settings, b"event-d", "CASE-D", "internal_error", "RuntimeError", NOW, replays=3)


async def test_filters_select_what_is_replayed(settings: Settings) -> None:
    await _letters(settings)
    report = await replay(
        settings, Selection(since=NOW - timedelta(minutes=90), reasons=frozenset({"delivery_failed"}))
    )
    assert report.scanned == 4
    assert sorted(letter.value for letter in report.replayed) == [b"event-b", b"event-c"]
    replayed = await _read(settings, settings.topics.input)
    assert sorted(value for value, _ in replayed) == [b"event-b", b"event-c"]
    for _, headers in replayed:
        assert headers["ecuapass.replay.count"] == "1"
        assert headers["ecuapass.replayed.from"].startswith(f"{settings.topics.dlq}:")
    by_case = await replay(settings, Selection(case_ids=frozenset({"CASE-A"})), dry_run=True)
    assert [letter.value for letter in by_case.replayed] == [b"{broken"]
    by_class = await replay(
        settings,
        Selection(error_classes=frozenset({"UndecodableEvent"}), until=NOW - timedelta(minutes=90)),
        dry_run=True,
    )
    assert [letter.value for letter in by_class.replayed] == [b"{broken"]


async def test_loop_guard_quarantines(settings: Settings) -> None:
    await _letters(settings)
    report = await replay(settings, Selection(case_ids=frozenset({"CASE-D"})), max_replays=3)
    assert report.replayed == [] and [letter.value for letter in report.quarantined] == [b"event-d"]
    assert [value for value, _ in await _read(settings, settings.topics.quarantine)] == [b"event-d"]
    assert await _read(settings, settings.topics.input) == []
    again = await replay(settings, Selection(case_ids=frozenset({"CASE-D"})), max_replays=3)
    assert again.quarantined == []  # already set aside: not quarantined twice


async def test_truncated_letters_of_records_too_large_are_never_replayed(settings: Settings) -> None:
    await _letters(settings)
    await _dead_letter(settings, b'{"specversion": "1.0", "id": "cut', "CASE-E", "too_large", "UndecodableEvent", NOW)
    report = await replay(settings, Selection(since=NOW - timedelta(minutes=1)))
    assert [letter.value for letter in report.unreplayable] == [b'{"specversion": "1.0", "id": "cut']
    assert sorted(letter.value for letter in report.replayed) == [b"event-c"]
    assert [letter.value for letter in report.quarantined] == [b"event-d"]
    assert sorted(value for value, _ in await _read(settings, settings.topics.input)) == [b"event-c"]


async def test_dry_run_through_the_cli_publishes_nothing(settings: Settings) -> None:
    await _letters(settings)
    done = subprocess.run(  # noqa: ASYNC221 - a short CLI run; the broker lives in another process
        [sys.executable, "-m", "gateway", "dlq", "replay", "--reason", "delivery_failed", "--dry-run"],
        env=gateway_environment(settings, "http://127.0.0.1:9"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("would replay:") == 2
    assert "4 dead letters scanned, 2 would replay" in done.stdout
    assert await _read(settings, settings.topics.input) == []


async def test_replayed_letters_are_filed_and_poison_ends_in_quarantine(
    gateway: Gateway, settings: Settings, example_by_name: dict[str, Example]
) -> None:
    from gateway.devstack.demo import OutcomeReader

    event = example_by_name["authorization-request/accepted/minimal"]
    await _dead_letter(settings, event.payload(), "CASE-2026-0001", "delivery_failed", "PermanentDeliveryError", NOW)
    await _dead_letter(settings, b"{poison", "CASE-POISON", "not_json", "UndecodableEvent", NOW)
    reader = OutcomeReader(settings)
    await reader.start()
    try:
        first = await replay(settings, Selection(), max_replays=2)
        assert len(first.replayed) == 2
        found = await collect(reader, {str(event.event_id()), "dead-letter:not_json"}, timeout_s=20)
        assert found[str(event.event_id())][0].outcome == "accepted"  # type: ignore[attr-defined]
        (again,) = found["dead-letter:not_json"]
        assert again.headers["ecuapass.replay.count"] == "1"  # type: ignore[attr-defined]
        second = await replay(settings, Selection(reasons=frozenset({"not_json"})), max_replays=2)
        assert [letter.replays for letter in second.replayed] == [1]  # the superseded original is skipped
        await collect(reader, {"dead-letter:not_json"}, timeout_s=20)
        third = await replay(settings, Selection(reasons=frozenset({"not_json"})), max_replays=2)
        assert third.replayed == [] and [letter.replays for letter in third.quarantined] == [2]
    finally:
        await reader.stop()
