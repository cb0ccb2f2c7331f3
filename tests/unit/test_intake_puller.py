"""One feed's puller, with a fake feed and a fake producer (no sockets): archive before CloudEvent before cursor,
unreadable notifications dead-lettered while the cursor advances, a cursor past the retention restarted from the
oldest one customs gives (loudly), and a stop that lets the page in hand finish."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.contract.feed import FeedGone, TolerantPage, UnreadableNotification
from gateway.contract.notifications import EXIT_AUTHORIZED, REVIEW_STARTED, Concerns, Notification
from gateway.errors import TransientFeedError
from gateway.intake import records
from gateway.intake.puller import FeedPuller
from gateway.kafka import headers as h
from gateway.runtime.metrics import GatewayMetrics
from gateway.settings import IntakeSettings, ProcessingSettings, Settings
from tests.harness.waiting import eventually

AT = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)
REVIEW = Notification(
    "NTF-000000000001",
    1,
    REVIEW_STARTED,
    AT,
    "EXPORTER",
    Concerns("CASE-1", "5b1e7f02-8c43-4d19-a6e5-0f2d9c7b3a14", "export-declaration", "028-2026-51-00000001"),
)
EXIT = replace(REVIEW, notification_id="NTF-000000000003", sequence=3, type=EXIT_AUTHORIZED)
SETTINGS = Settings(
    intake=IntakeSettings(enabled=True, interval_s=0.01), processing=ProcessingSettings(publish_retry_s=0.01)
)


class FakeFeed:
    """Answers the pages given, by cursor; an empty page for any other cursor; a transient failure first."""

    def __init__(self, pages: dict[str, TolerantPage | FeedGone]) -> None:
        self.name = "default"
        self.pages = pages
        self.asked: list[str] = []
        self.failed = False

    async def page(self, after: str, limit: int) -> tuple[bytes, TolerantPage | FeedGone]:
        self.asked.append(after)
        if not self.failed:
            self.failed = True
            raise TransientFeedError("feed default: customs answered HTTP 503", feed="default", status_code=503)
        return b"<page/>", self.pages.get(after, TolerantPage(after, after, False))

    async def aclose(self) -> None:
        pass


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, int | None, dict[str, str]]] = []

    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: Any = None,
    ) -> None:
        self.sent.append((topic, value, key, partition, h.as_text(headers or ())))


def _topics(producer: FakeProducer) -> list[str]:
    t = SETTINGS.topics
    names = {t.archive: "archive", t.notifications: "event", t.intake_dlq: "dlq", t.intake_feeds: "cursor"}
    return [names[topic] for topic, *_ in producer.sent]


async def test_archive_then_event_then_cursor_and_an_unreadable_one_dead_lettered() -> None:
    unreadable = UnreadableNotification(b"<bad/>", "unknown_type", "type 'x' unknown", "NTF-000000000002")
    page = TolerantPage("0", "3", False, ((b"<one/>", REVIEW), (b"<bad/>", unreadable), (b"<three/>", EXIT)))
    feed, producer, metrics = FakeFeed({"0": page}), FakeProducer(), GatewayMetrics()
    puller = FeedPuller(feed, 4, SETTINGS, producer, metrics)
    puller.start(None)
    await eventually(lambda: _asked(feed, "3"))
    await puller.stop(5)
    assert _topics(producer) == ["archive", "event", "archive", "dlq", "archive", "event", "cursor"]
    archived, event, unreadable_archived, letter, _, _, cursor = producer.sent
    assert (unreadable_archived[1], unreadable_archived[2]) == (b"<bad/>", None)  # archived too, without a key
    assert (archived[1], archived[2]) == (b"<one/>", b"CASE-1")
    assert event[2] == b"CASE-1" and event[4][h.NOTIFICATION_ID] == "NTF-000000000001"
    assert records.cursor_of(cursor[1]) == "3" and cursor[3] == 4  # on the feed's own partition
    assert (letter[1], letter[4][h.DLQ_REASON], letter[4][h.FEED_CURSOR]) == (b"<bad/>", "unknown_type", "0")
    assert (
        metrics.registry.get_sample_value("ecuapass_gateway_notifications_published_total", {"type": "exit-authorized"})
        == 1
    )
    assert feed.asked[:2] == ["0", "0"]  # asked again after the failure


def _asked(feed: FakeFeed, cursor: str) -> None:
    assert cursor in feed.asked


async def test_a_cursor_past_the_retention_restarts_from_the_oldest_loudly(caplog: pytest.LogCaptureFixture) -> None:
    gone = FeedGone("2", "10", "Ya no se conservan.")
    feed, producer = FakeFeed({"2": gone}), FakeProducer()
    puller = FeedPuller(feed, 0, SETTINGS, producer)
    with caplog.at_level(logging.ERROR):
        puller.start("2")
        await eventually(lambda: _asked(feed, "10"))
        await puller.stop(5)
    assert records.cursor_of(producer.sent[0][1]) == "10"
    assert "LOST (up to 8 notifications)" in caplog.text


async def test_stop_lets_the_page_in_hand_finish_and_save_its_cursor() -> None:
    release = asyncio.Event()

    class SlowProducer(FakeProducer):
        async def send_and_wait(self, topic: str, value: bytes | None = None, *args: Any, **kwargs: Any) -> None:
            await release.wait()
            await super().send_and_wait(topic, value, *args, **kwargs)

    feed, producer = FakeFeed({"0": TolerantPage("0", "1", False, ((b"<one/>", REVIEW),))}), SlowProducer()
    feed.failed = True
    puller = FeedPuller(feed, 0, SETTINGS, producer)
    puller.start(None)
    await eventually(lambda: _asked(feed, "0"))
    stopping = asyncio.create_task(puller.stop(5))
    release.set()
    await stopping
    assert _topics(producer) == ["archive", "event", "cursor"] and puller.cursor == "1"
