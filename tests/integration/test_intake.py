"""The intake of customs notifications on a real Tansu broker, against the mock over real HTTP: each channel's path
on the notifications topic in order, keyed by case, archived first; unreadable notifications dead-lettered while the
rest comes through; two instances splitting the feeds and handing them over; a failing feed that does not stop filing.

The mock's clock is a ``ManualClock`` (its notifications are published when the test moves it); everything else is
waited for with ``eventually``, never for a fixed time.
"""

from __future__ import annotations

import contextlib
import json
import random
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from adapters.http_notification_feed import HttpNotificationFeed
from ecuapass_mock.faults import FaultInjector, FaultSettings
from ecuapass_mock.server import MockServer
from gateway.bootstrap import build_gateway, intake
from gateway.contract.feed import FeedPage, write_feed
from gateway.contract.notifications import EXIT_AUTHORIZED, Concerns, Notification
from gateway.devstack.broker import TansuBroker
from gateway.intake import records
from gateway.intake.service import Intake
from gateway.kafka import headers as h
from gateway.kafka.topics import ensure_topics
from gateway.settings import (
    AgencySettings,
    EcuapassSettings,
    IntakeSettings,
    RetrySettings,
    Settings,
)
from gateway.tools.tracking import case_notices
from gateway.tools.tracking.notices import follow_notices
from tests.harness.waiting import eventually
from tests.integration.conftest import gateway_environment, make_settings
from tests.integration.test_mock_notifications import CHANNEL_PATHS, LIFECYCLE, ManualClock, Mock

UNO, DOS = "1790011674001", "0992339411001"
TOKENS = {"default": "t0ken-default", UNO: "t0ken-uno", DOS: "t0ken-dos"}
FAST = IntakeSettings(
    enabled=True,
    interval_s=0.1,
    page_size=3,  # several pages per feed
    retry=RetrySettings(max_attempts=2, initial_backoff_s=0.01, max_backoff_s=0.05),
    failure_threshold=3,
    open_s=0.5,
)


def intake_settings(bootstrap: str, url: str, **sections: Any) -> Settings:
    """A test's settings (its own topics, the intake's too, and groups) with the intake on and quick."""
    return make_settings(bootstrap, url).model_copy(update={"intake": FAST} | sections)


async def read_topic(settings: Settings, topic: str) -> list[ConsumerRecord]:
    """Every record of ``topic`` now, partition by partition."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka.bootstrap_servers, enable_auto_commit=False, fetch_max_wait_ms=20
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            await consumer.topics()
            partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[ConsumerRecord] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            for polled in (await consumer.getmany(timeout_ms=200)).values():
                found += polled
        return found
    finally:
        await consumer.stop()


def bodies(found: list[ConsumerRecord]) -> list[dict[str, Any]]:
    return [json.loads(record.value) for record in found]


@pytest.fixture
def serve_mock(tmp_path: Path, example_by_name: dict[str, Any]) -> Iterator[Callable[..., Mock]]:
    """Mocks on a ``ManualClock`` with the notification tests' timings (``MockServer`` options given)."""
    started: list[Mock] = []

    def start(**options: Any) -> Mock:
        clock = ManualClock()
        server = MockServer(tmp_path / f"mock-{len(started)}.sqlite3", lifecycle=LIFECYCLE, clock=clock, **options)
        mock = Mock(server.start(), clock, example_by_name)
        started.append(mock)
        return mock

    yield start
    for mock in started:
        mock.http.close()
        mock.server.stop()


async def test_each_channel_reaches_the_notifications_topic_in_order_keyed_by_case_archived_first(
    broker: TansuBroker, serve_mock: Callable[..., Mock]
) -> None:
    mock = serve_mock()
    settings = intake_settings(broker.bootstrap_servers, mock.server.url)
    cases = {channel: mock.case(f"-{magic}") for magic, (channel, _) in CHANNEL_PATHS.items()}
    mock.clock.at(10 * 86400)  # every step of every path is due
    expected = {cases[channel].case_id: [kind for _, kind, _ in path] for channel, path in CHANNEL_PATHS.values()}
    total = sum(map(len, expected.values()))
    gateway = build_gateway(settings)
    await gateway.start()
    try:
        published = await eventually(lambda: _exactly(settings, settings.topics.notifications, total), 30)
        archived = await read_topic(settings, settings.topics.archive)
    finally:
        await gateway.stop()
    by_case: dict[str, list[str]] = {}
    for record, event in zip(published, bodies(published), strict=True):
        assert record.key == event["subject"].encode()  # keyed by case id
        assert event["id"] == records.event_id(event["data"]["notification_id"])
        assert event["type"] == f"ecuapass.customs.{event['data']['notification_type']}.v1"
        assert h.as_text(record.headers or ())[h.CONTENT_TYPE] == h.CLOUDEVENTS_JSON
        by_case.setdefault(event["subject"], []).append(event["data"]["notification_type"])
    assert by_case == expected  # each case's path, in order (one case, one key, one partition)
    first_archived = {h.text(r.headers or (), h.NOTIFICATION_ID): r for r in archived}
    assert len(archived) == total and set(first_archived) == {e["data"]["notification_id"] for e in bodies(published)}
    for record, event in zip(published, bodies(published), strict=True):
        raw = first_archived[event["data"]["notification_id"]]
        assert raw.key == record.key and raw.value.startswith(b"<ntf:Notification")
        assert raw.timestamp <= record.timestamp  # the raw notification went out first
    checkpoints = await read_topic(settings, settings.topics.intake_feeds)
    assert records.cursor_of(checkpoints[-1].value) == str(total)  # the mock's cursor: the last sequence read
    physical = cases["PHYSICAL"].case_id
    notices = await case_notices(settings, physical)  # what ``case`` shows among the outcomes
    assert [notice.notification_type for notice in notices] == expected[physical]
    followed = follow_notices(settings, from_beginning=True)  # what ``tail`` shows of them
    async with contextlib.aclosing(followed):
        shown = [await anext(followed) for _ in range(total)]
    assert {notice.event_id for notice in shown} == {event["id"] for event in bodies(published)}


async def _exactly(settings: Settings, topic: str, count: int) -> list[ConsumerRecord]:
    found = await read_topic(settings, topic)
    assert len(found) >= count, f"{len(found)} of {count} records on {topic}"
    return found


NOTICE = Notification(
    "NTF-000000000001",
    1,
    EXIT_AUTHORIZED,
    datetime(2026, 12, 5, 9, 0, tzinfo=UTC),
    "EXPORTER",
    Concerns("CASE-DLQ-1", str(uuid.UUID(int=1)), "export-declaration", "028-2026-51-00000001"),
)


async def test_an_unreadable_notification_goes_to_the_intake_dlq_and_the_others_come_through(
    broker: TansuBroker,
) -> None:
    notices = (
        NOTICE,
        replace(NOTICE, notification_id="NTF-000000000002", sequence=2),
        replace(NOTICE, notification_id="NTF-000000000003", sequence=3),
    )
    page = write_feed(FeedPage("0", "3", False, notices))
    second = page.index(b"NTF-000000000002")
    page = page[:second] + page[second:].replace(b"exit-authorized", b"goods-vanished", 1)
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        after = request.url.params["after"]
        asked.append(after)
        served = page if after == "0" else write_feed(FeedPage(after, after, False, ()))
        return httpx.Response(200, content=served, headers={"content-type": "application/xml"})

    settings = intake_settings(broker.bootstrap_servers, "http://127.0.0.1:9")
    await ensure_topics(settings)
    feed = HttpNotificationFeed("default", settings.ecuapass, settings.intake, transport=httpx.MockTransport(answer))
    running = Intake(settings, [feed])
    await running.start()
    try:
        published = await eventually(lambda: _exactly(settings, settings.topics.notifications, 2), 30)
        letters = await eventually(lambda: _exactly(settings, settings.topics.intake_dlq, 1), 10)
        await eventually(lambda: _asked_after(asked, "3"), 10)  # the cursor moved past the unreadable one
    finally:
        await running.stop()
    assert [e["data"]["notification_id"] for e in bodies(published)] == ["NTF-000000000001", "NTF-000000000003"]
    (letter,) = letters
    named = h.as_text(letter.headers or ())
    assert (named[h.FEED], named[h.FEED_CURSOR], named[h.DLQ_REASON]) == ("default", "0", "unknown_type")
    assert "goods-vanished" in named[h.DLQ_DETAIL] and named[h.NOTIFICATION_ID] == "NTF-000000000002"
    assert b"goods-vanished" in letter.value and letter.value.startswith(b"<ntf:Notification")


def _asked_after(asked: list[str], cursor: str) -> None:
    assert cursor in asked, asked


async def test_two_instances_split_the_feeds_and_one_takes_over_from_the_saved_cursor(
    broker: TansuBroker, serve_mock: Callable[..., Mock]
) -> None:
    mock = serve_mock(require_token=TOKENS)
    agencies = {ruc: AgencySettings(certificate=Path("unused.pem"), token=TOKENS[ruc]) for ruc in (UNO, DOS)}
    settings = intake_settings(
        broker.bootstrap_servers,
        mock.server.url,
        ecuapass=EcuapassSettings(url=mock.server.url, token=TOKENS["default"]),  # type: ignore[arg-type]
        agencies=agencies,
    )
    await ensure_topics(settings)
    cases = [mock.case("-ELEC", token=TOKENS[name]) for name in ("default", UNO, DOS)]
    mock.clock.at(90)  # review-started of each case, not yet the exit
    first, second = intake(settings), intake(settings)
    await first.start()
    try:
        await eventually(lambda: _owns(first, ["0992339411001", "1790011674001", "default"]), 20)
        await second.start()
        await eventually(lambda: _split(first, second), 30)
        await eventually(lambda: _exactly(settings, settings.topics.notifications, 3), 20)
        await first.stop()
        await eventually(lambda: _owns(second, ["0992339411001", "1790011674001", "default"]), 30)
        mock.clock.at(10 * 86400)  # the exits: read by the survivor, from the cursors saved
        found = await eventually(lambda: _exactly(settings, settings.topics.notifications, 6), 30)
    finally:
        await first.stop()
        await second.stop()
    events = bodies(found)
    assert len(events) == 6 and len({e["id"] for e in events}) == 6  # nothing read twice across the hand-over
    assert {e["subject"] for e in events} == {case.case_id for case in cases}
    feeds = {e["data"]["feed"] for e in events}
    assert feeds == {"default", UNO, DOS}


def _owns(running: Intake, feeds: list[str]) -> None:
    assert running.owned == feeds, running.owned


def _split(first: Intake, second: Intake) -> None:
    assert first.owned and second.owned, (first.owned, second.owned)
    assert sorted(first.owned + second.owned) == ["0992339411001", "1790011674001", "default"]


async def test_a_failing_feed_does_not_stop_filing(
    broker: TansuBroker, serve_mock: Callable[..., Mock], example_by_name: dict[str, Any]
) -> None:
    mock = serve_mock()
    failing = FAST.model_copy(update={"path": "/api/v1/no-such-feed"})  # every poll fails
    settings = intake_settings(broker.bootstrap_servers, mock.server.url, intake=failing)
    gateway = build_gateway(settings)
    await gateway.start()
    try:
        await gateway.wait_assigned()
        await eventually(lambda: _failed(gateway.metrics.registry), 20)
        example = example_by_name["authorization-request/accepted/minimal"]
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers)
        await producer.start()
        try:
            await producer.send_and_wait(settings.topics.input, example.payload(), key=example.key())
        finally:
            await producer.stop()
        acks = await eventually(lambda: _exactly(settings, settings.topics.acks, 1), 30)
    finally:
        await gateway.stop()
    assert json.loads(acks[0].value)["type"] == "ecuapass.gateway.document-accepted.v1"


def _failed(registry: Any) -> None:
    value = registry.get_sample_value(
        "ecuapass_gateway_intake_errors_total", {"feed": "default", "reason": "PermanentFeedError"}
    )
    assert value and value >= 2, value


KILLS = 3


def intake_environment(settings: Settings, url: str) -> dict[str, str]:
    """The GATEWAY_* variables of a gateway process with ``settings``' topics and intake."""
    t, i = settings.topics, settings.intake
    return gateway_environment(settings, url) | {
        "GATEWAY_TOPICS__NOTIFICATIONS": t.notifications,
        "GATEWAY_TOPICS__ARCHIVE": t.archive,
        "GATEWAY_TOPICS__INTAKE_DLQ": t.intake_dlq,
        "GATEWAY_TOPICS__INTAKE_FEEDS": t.intake_feeds,
        "GATEWAY_INTAKE__ENABLED": "true",
        "GATEWAY_INTAKE__INTERVAL_S": str(i.interval_s),
        "GATEWAY_INTAKE__PAGE_SIZE": str(i.page_size),
    }


async def test_sigkill_while_notifications_stream_loses_none_and_keeps_one_id_each(
    broker: TansuBroker, serve_mock: Callable[..., Mock], tmp_path: Path
) -> None:
    chance = random.Random(15)
    mock = serve_mock(faults=FaultInjector(FaultSettings(latency_ms=20, latency_jitter_ms=30)))
    one_by_one = FAST.model_copy(update={"page_size": 1})  # a checkpoint after every notification
    settings = intake_settings(broker.bootstrap_servers, mock.server.url, intake=one_by_one)
    await ensure_topics(settings)
    for _ in range(10):
        mock.case("-PHYS")  # four notifications each
    mock.clock.at(10 * 86400)
    expected = {n.notification_id: n for n in mock.feed(limit=500).notifications}
    assert len(expected) == 40
    environment = intake_environment(settings, mock.server.url)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for n in range(KILLS + 1):
            with (tmp_path / f"gateway-{n}.log").open("ab") as log:
                command = [sys.executable, "-m", "gateway", "run"]
                processes.append(subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT))
            if n < KILLS:  # at a random point of its work: after a few more notifications are out
                target = len(await read_topic(settings, settings.topics.notifications)) + chance.randint(1, 6)
                await eventually(partial(_exactly, settings, settings.topics.notifications, target), 60)
                processes[n].send_signal(signal.SIGKILL)
                processes[n].wait(timeout=10)
        published = await eventually(partial(_every_notification, settings, set(expected)), 60)
        processes[-1].send_signal(signal.SIGTERM)
        assert processes[-1].wait(timeout=60) == 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    under: dict[str, set[tuple[str, str, str]]] = {}
    for event in bodies(published):
        data = event["data"]
        under.setdefault(event["id"], set()).add((data["notification_id"], event["type"], event["subject"]))
    assert {event_id: found for event_id, found in under.items() if len(found) != 1} == {}  # one notification per id
    assert set(under) == {records.event_id(nid) for nid in expected}  # every notification, none missing
    for event_id, ((nid, kind, subject),) in ((k, tuple(v)) for k, v in under.items()):
        assert (event_id, kind, subject) == (
            records.event_id(nid),
            expected[nid].type.cloudevent_type,
            expected[nid].concerns.case_id,
        )
    archived = await read_topic(settings, settings.topics.archive)
    assert {h.text(r.headers or (), h.NOTIFICATION_ID) for r in archived} == set(expected)


async def _every_notification(settings: Settings, expected: set[str]) -> list[ConsumerRecord]:
    found = await read_topic(settings, settings.topics.notifications)
    seen = {json.loads(record.value)["data"]["notification_id"] for record in found}
    assert seen >= expected, f"{len(expected - seen)} notifications missing"
    return found
