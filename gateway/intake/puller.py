"""One feed's loop: a page after the cursor, each notification archived then published, then the cursor saved.

    page after cursor (the feed adapter: retries, its own circuit)
      FeedGone -> logged at ERROR with what is lost, counted; reading restarts from its Oldest
      each notification, in feed order:
          every one -> its raw XML on the archive topic, confirmed, then
            readable   -> its CloudEvent on the notifications topic, confirmed
            unreadable -> the intake's dead-letter topic (raw, feed, cursor, reason, detail, where it was archived),
                          confirmed
      -> the page's Next as a checkpoint on the feed's partition of the control topic, confirmed
    nothing more (More false) -> ``interval_s`` pause; more -> the next page at once

Every send is confirmed before the next step, so the cursor never moves past a notification that is not on the
broker. A crash after publishing and before the checkpoint publishes that page again on the next start, under the
same CloudEvent ids (at-least-once with stable ids: Tansu has no transactions). A notification nothing can be made of
goes to the dead letters and the cursor still advances: bad input never stops the feed.

``stop()`` lets the page in hand finish (its records and its checkpoint), or cancels a request or a pause: the
owner calls it when the feed's partition is revoked, before the partition goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from gateway.contract.feed import FeedGone, TolerantPage, UnreadableNotification
from gateway.contract.notifications import Notification
from gateway.errors import FeedError
from gateway.intake import records
from gateway.intake.records import Checkpoint
from gateway.kafka.publisher import permanent
from gateway.kafka.records import OutboundRecord
from gateway.ports import NotificationFeed
from gateway.runtime.metrics import GatewayMetrics
from gateway.settings import Settings

log = logging.getLogger(__name__)

START = "0"  # the start of what the feed retains


class Sender(Protocol):
    """What the intake needs of a producer (aiokafka's): a confirmed send, to a given partition when asked."""

    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: Any = None,
    ) -> Any: ...


class FeedPuller:
    def __init__(
        self,
        feed: NotificationFeed,
        partition: int,
        settings: Settings,
        producer: Sender,
        metrics: GatewayMetrics | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_notification: Callable[[Notification], None] | None = None,
    ) -> None:
        """``partition``: the feed's partition of the control topic, where its checkpoints go;
        ``on_notification``: told of each notification once it is published (the demo prints them)."""
        self.feed = feed
        self._partition = partition
        self._settings = settings
        self._producer = producer
        self._metrics = metrics
        self._clock = clock
        self._on_notification = on_notification
        self._stopping = asyncio.Event()
        self._in_hand = False
        self._task: asyncio.Task[None] | None = None
        self.cursor = START

    def start(self, cursor: str | None) -> None:
        """Pull from ``cursor`` (``None``: the start of the feed) until stopped."""
        self.cursor = cursor or START
        self._stopping = asyncio.Event()  # a feed taken again after a stop starts afresh
        self._task = asyncio.create_task(self._run(), name=f"intake-{self.feed.name}")
        self._task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.critical("feed %s stopped: %s", self.feed.name, task.exception(), exc_info=task.exception())

    async def stop(self, timeout_s: float) -> None:
        """Finish the page in hand and its checkpoint (within ``timeout_s``), or cancel a request or a pause."""
        self._stopping.set()
        task = self._task
        if task is None or task.done():
            return
        if not self._in_hand:
            task.cancel()
        done, _ = await asyncio.wait({task}, timeout=timeout_s)
        if not done:
            log.warning("feed %s: the page in hand did not finish in %.0f s: read again by the next owner",
                        self.feed.name, timeout_s)  # fmt: skip
            task.cancel()
            await asyncio.wait({task})

    async def _run(self) -> None:
        name = self.feed.name
        log.info("feed %s: pulling after cursor %s", name, self.cursor)
        while not self._stopping.is_set():
            try:
                _, answer = await self.feed.page(self.cursor, self._settings.intake.page_size)
            except FeedError as exc:
                log.warning("feed %s: no page after cursor %s (%s); asking again later", name, self.cursor, exc)
                if self._metrics:
                    self._metrics.intake_errors.labels(name, type(exc).__name__).inc()
                await self._pause()
                continue
            self._in_hand = True
            try:
                more = await self._handle(answer)
            finally:
                self._in_hand = False
            if self._metrics:  # read, published and saved: the feed is alive (EcuapassGatewayIntakeStopped)
                self._metrics.intake_read.labels(name).set_to_current_time()
            if not more:
                await self._pause()

    async def _handle(self, answer: TolerantPage | FeedGone) -> bool:
        """Publish the page and save its cursor; whether more is waiting."""
        if isinstance(answer, FeedGone):
            self._gone(answer)
            await self._save(answer.oldest)
            return True
        for raw, item in answer.items:
            await self._publish(raw, item, answer.after)
        if answer.next != self.cursor:  # an empty poll saves nothing: the control topic grows only with reading
            await self._save(answer.next)
        return answer.more

    def _gone(self, gone: FeedGone) -> None:
        lost = ""
        if gone.after.isdigit() and gone.oldest.isdigit():
            lost = f" (up to {int(gone.oldest) - int(gone.after)} notifications)"
        log.error(
            "feed %s: the notifications after cursor %s are past customs' retention and LOST%s; reading restarts "
            "from %s. Customs says: %s",
            self.feed.name,
            gone.after,
            lost,
            gone.oldest,
            gone.description,
        )
        if self._metrics:
            self._metrics.intake_errors.labels(self.feed.name, "FeedGone").inc()

    async def _publish(self, raw: bytes, item: Notification | UnreadableNotification, cursor: str) -> None:
        """Archive first, readable or not (an unreadable one is read again from the archive by ``dlq
        replay-notifications``), then the CloudEvent; a dead letter names the archive record when there is one."""
        topics, feed = self._settings.topics, self.feed.name
        archived, refused = await self._archive(item, raw, cursor)
        if refused is not None:
            await self._dead_letter(item, raw, cursor, "unpublishable", f"{type(refused).__name__}: {refused}")
            return
        if isinstance(item, UnreadableNotification):
            await self._dead_letter(item, raw, cursor, item.reason, item.detail, archived)
            return
        try:
            cloudevent = records.published(item, topics, source=self._settings.source, feed=feed, cursor=cursor)
        except ValidationError as exc:  # e.g. a case id no CloudEvent subject can carry
            detail = f"no CloudEvent can be made of it: {exc}"
            await self._dead_letter(item, raw, cursor, "invalid", detail, archived)
            return
        refused = await self._send(cloudevent)
        if refused is not None:
            detail = f"{type(refused).__name__}: {refused}"
            await self._dead_letter(item, raw, cursor, "unpublishable", detail, archived)
            return
        if self._metrics:
            self._metrics.notifications.labels(item.type.code).inc()
            self._metrics.newest_notification.labels(feed).set(item.issued_at.timestamp())
        if self._on_notification is not None:
            self._on_notification(item)

    async def _archive(
        self, item: Notification | UnreadableNotification, raw: bytes, cursor: str
    ) -> tuple[str | None, Exception | None]:
        """The archive record sent: where the broker put it (``topic:partition:offset``, when it says), or why it
        refused it for good."""
        record = records.archive(item, raw, self._settings.topics, feed=self.feed.name, cursor=cursor)
        outcome = await self._deliver(record)
        if isinstance(outcome, Exception):
            return None, outcome
        partition, offset = getattr(outcome, "partition", None), getattr(outcome, "offset", None)
        if isinstance(partition, int) and isinstance(offset, int):
            return f"{record.topic}:{partition}:{offset}", None
        return None, None

    async def _dead_letter(
        self,
        item: Notification | UnreadableNotification,
        raw: bytes,
        cursor: str,
        reason: str,
        detail: str,
        archived: str | None = None,
    ) -> None:
        name = self.feed.name
        log.error("feed %s: notification %s after cursor %s goes to the intake's dead letters (%s: %s)",
                  name, item.notification_id, cursor, reason, detail)  # fmt: skip
        letter = records.dead_letter(
            item, raw, self._settings.topics, feed=name, cursor=cursor, reason=reason, detail=detail, archived=archived
        )
        refused = await self._send(letter)
        if refused is not None:  # nothing left to put it in: stop this feed rather than skip it silently
            raise RuntimeError(f"feed {name}: the intake's dead-letter topic refused a letter: {refused}")
        if self._metrics:
            self._metrics.intake_errors.labels(name, reason).inc()

    async def _save(self, cursor: str) -> None:
        record = records.checkpoint(Checkpoint(self.feed.name, cursor, self._clock()), self._settings.topics)
        refused = await self._send(record, partition=self._partition)
        if refused is not None:
            raise RuntimeError(f"feed {self.feed.name}: the control topic refused its checkpoint: {refused}")
        self.cursor = cursor

    async def _send(self, record: OutboundRecord, partition: int | None = None) -> Exception | None:
        """Until the broker confirms (``None``), or refuses for good (the error); an outage is waited out."""
        outcome = await self._deliver(record, partition)
        return outcome if isinstance(outcome, Exception) else None

    async def _deliver(self, record: OutboundRecord, partition: int | None = None) -> Any:
        """Until the broker confirms (its record metadata) or refuses for good (the error, returned)."""
        while True:
            try:
                return await self._producer.send_and_wait(
                    record.topic, record.value, key=record.key, partition=partition, headers=record.headers
                )
            except Exception as exc:
                if permanent(exc):
                    return exc
                log.warning("feed %s: could not publish to %s (%s); trying again", self.feed.name, record.topic, exc)
                await asyncio.sleep(self._settings.processing.publish_retry_s)

    async def _pause(self) -> None:
        with contextlib.suppress(TimeoutError):  # not wait_for: on 3.11 it can swallow a cancellation
            async with asyncio.timeout(self._settings.intake.interval_s):
                await self._stopping.wait()
