"""Which instance pulls which feed: Kafka group membership on the control topic, one partition per feed.

    feeds sorted by name -> partition index of the control topic (created with one partition per feed)
    an aiokafka consumer in group ``<kafka.group_id>.intake`` subscribes to it, its partitions paused (it reads
        nothing through the group: it keeps the membership, and hears rebalances)
    assigned partition -> its last record read (the feed's checkpoint; none: the start of the feed) -> that feed's
        puller starts from it
    revoked partition  -> that feed's puller stops (the page in hand finished, its cursor saved) before the
        partition goes to another instance, which then reads that cursor

So two instances split the feeds, and the survivor takes the feeds of one that stops (or dies: after its session
times out) and continues from its last saved cursor. No offset is ever committed: the checkpoint is the record.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from gateway.intake import records
from gateway.intake.puller import FeedPuller
from gateway.kafka.security import client_security, kafka_errors
from gateway.settings import Settings

log = logging.getLogger(__name__)


class FeedOwnership:
    def __init__(self, settings: Settings, pullers: Mapping[int, FeedPuller]) -> None:
        """``pullers``: each feed's puller by its partition of the control topic."""
        self._settings = settings
        self._pullers = pullers
        self._topic = settings.topics.intake_feeds
        self._running: set[int] = set()
        self._consumer: AIOKafkaConsumer | None = None
        self._reader: AIOKafkaConsumer | None = None
        self._poll: asyncio.Task[None] | None = None

    @property
    def owned(self) -> list[str]:
        """The feeds this instance pulls now."""
        return sorted(self._pullers[p].feed.name for p in self._running)

    async def start(self) -> None:
        kafka = self._settings.kafka
        common: dict[str, Any] = {
            "bootstrap_servers": kafka.bootstrap_servers,
            "request_timeout_ms": kafka.request_timeout_ms,
            "fetch_max_wait_ms": kafka.fetch_max_wait_ms,
            "enable_auto_commit": False,
            **client_security(kafka),
        }
        self._reader = AIOKafkaConsumer(client_id=f"{kafka.client_id}-intake-reader", **common)
        self._consumer = AIOKafkaConsumer(
            client_id=f"{kafka.client_id}-intake",
            group_id=f"{kafka.group_id}.intake",
            session_timeout_ms=kafka.session_timeout_ms,
            heartbeat_interval_ms=kafka.heartbeat_interval_ms,
            **common,
        )
        async with kafka_errors(kafka):
            await self._reader.start()
            self._consumer.subscribe([self._topic], listener=_Listener(self))
            await self._consumer.start()
        self._poll = asyncio.create_task(self._keep_membership(), name="intake-membership")

    async def stop(self) -> None:
        """Stop every puller (each finishes its page and saves its cursor), then leave the group."""
        if self._poll is not None:
            self._poll.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll
        await self.release(set(self._running))
        for client in (self._consumer, self._reader):
            if client is not None:
                await client.stop()

    async def _keep_membership(self) -> None:
        """Poll (nothing comes: the partitions are paused) so the group keeps this instance and rebalances run."""
        assert self._consumer is not None
        while True:
            try:
                await self._consumer.getmany(timeout_ms=1000)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the intake's group consumer failed a poll; polling again")
                await asyncio.sleep(1.0)

    async def take(self, partitions: set[int]) -> None:
        """Start the pullers of newly assigned ``partitions``, each from its feed's last checkpoint."""
        assert self._consumer is not None
        self._consumer.pause(*(TopicPartition(self._topic, p) for p in partitions))
        for partition in sorted(partitions - self._running):
            puller = self._pullers.get(partition)
            if puller is None:
                log.warning("partition %d of %s has no feed: more partitions than feeds", partition, self._topic)
                continue
            cursor = await self.checkpoint(partition)
            puller.start(cursor)
            self._running.add(partition)
            log.info("feed %s: owned by this instance, from cursor %s", puller.feed.name, cursor or "(start)")

    async def release(self, partitions: set[int]) -> None:
        """Stop the pullers of revoked ``partitions``: each finishes its page in hand and saves its cursor."""
        leaving = sorted(partitions & self._running)
        drain = self._settings.processing.drain_timeout_s
        await asyncio.gather(*(self._pullers[p].stop(drain) for p in leaving))
        for partition in leaving:
            self._running.discard(partition)
            log.info("feed %s: released by this instance", self._pullers[partition].feed.name)

    async def checkpoint(self, partition: int) -> str | None:
        """The cursor of the last record of ``partition`` (``None``: no checkpoint yet, or none readable).

        Reading starts one before the reported end and keeps the highest offset fetched: Tansu reports a
        partition's end as its last batch's first offset + 1, Apache Kafka as its last record's + 1."""
        assert self._reader is not None
        tp = TopicPartition(self._topic, partition)
        self._reader.assign([tp])
        end = (await self._reader.end_offsets([tp]))[tp]
        if end == 0:
            return None
        self._reader.seek(tp, end - 1)
        last = None
        try:
            async with asyncio.timeout(self._settings.kafka.request_timeout_ms / 1000):
                while True:
                    fetched = (await self._reader.getmany(tp, timeout_ms=200 if last else 1000)).get(tp, [])
                    if not fetched and last is not None:
                        return records.cursor_of(last.value)
                    last = max([*fetched, *([last] if last else [])], key=lambda record: record.offset, default=None)
        except TimeoutError:
            log.error("partition %d of %s: its last checkpoint could not be read; reading the feed from its start "
                      "(the same notifications again, under the same ids)", partition, self._topic)  # fmt: skip
            return None


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, ownership: FeedOwnership) -> None:
        self._ownership = ownership

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._ownership.release({tp.partition for tp in revoked})

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._ownership.take({tp.partition for tp in assigned})
