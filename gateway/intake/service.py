"""The intake the gateway starts and stops (``gateway/kafka/service.py``, when ``intake.enabled``): its own producer,
a puller per feed and the group membership that decides which of them run here.

    start: producer started -> the group joined (assigned feeds start pulling)
    stop:  every puller stops (page in hand finished, cursor saved) -> the group left -> producer flushed, stopped

Its producer, feeds and circuits are its own: the intake failing does not stop filing, nor the reverse.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaProducer

from gateway.contract.notifications import Notification
from gateway.intake.ownership import FeedOwnership
from gateway.intake.puller import FeedPuller
from gateway.kafka.publisher import new_producer
from gateway.kafka.security import kafka_errors
from gateway.ports import NotificationFeed
from gateway.runtime.metrics import GatewayMetrics
from gateway.settings import Settings

log = logging.getLogger(__name__)


class Intake:
    def __init__(
        self,
        settings: Settings,
        feeds: Sequence[NotificationFeed],
        metrics: GatewayMetrics | None = None,
        *,
        on_notification: Callable[[Notification], None] | None = None,
    ) -> None:
        """``feeds``: one per feed name of ``gateway.settings.feed_names``, in any order (sorted here: a feed's
        index is its partition of the control topic)."""
        self._settings = settings
        self._feeds = sorted(feeds, key=lambda feed: feed.name)
        self._metrics = metrics
        self._on_notification = on_notification
        self._producer: AIOKafkaProducer | None = None
        self._ownership: FeedOwnership | None = None

    @property
    def owned(self) -> list[str]:
        """The feeds this instance pulls now (tests, logs)."""
        return self._ownership.owned if self._ownership is not None else []

    async def start(self) -> None:
        producer = new_producer(self._settings.kafka)
        async with kafka_errors(self._settings.kafka):
            await producer.start()
        self._producer = producer
        told = self._on_notification
        pullers = {
            index: FeedPuller(feed, index, self._settings, producer, self._metrics, on_notification=told)
            for index, feed in enumerate(self._feeds)
        }
        self._ownership = FeedOwnership(self._settings, pullers)
        try:
            await self._ownership.start()
        except BaseException:
            await self.stop()
            raise
        log.info(
            "intake of %d notification feeds (%s) as group %s.intake",
            len(self._feeds),
            ", ".join(feed.name for feed in self._feeds),
            self._settings.kafka.group_id,
        )

    async def stop(self) -> None:
        if self._ownership is not None:
            ownership, self._ownership = self._ownership, None
            await ownership.stop()
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()
        for feed in self._feeds:
            await feed.aclose()
