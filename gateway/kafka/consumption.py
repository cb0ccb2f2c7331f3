"""Consumer control: pausing and resuming, commits, rebalances, lag and stalls of the gateway's Kafka consumer.

    the handler, full -> pause("capacity"), half empty again -> resume("capacity")
    the circuit to customs opens -> pause("circuit"), closes -> resume("circuit"); stopping -> pause("shutdown")
    the publisher refused a dead letter for good -> hold(partition, offset): that partition stays paused and stalled
    every commit interval -> commit() (per partition, the lowest offset whose outcome is not out) and measure()
    rebalance (``Rebalance``): revoked -> let their events finish (bounded), commit them, forget them;
                               assigned -> paused if consumption is, records there before marked for a status check

Pausing keeps the consumer polling, so it stays in its group. Commits never go past an event still in flight:
``msg.ack()`` would commit the consumer's whole position, so FastStream never acknowledges (``AckPolicy.MANUAL``).

The consumer is reached through ``Consumer``, the few calls consumer control makes: aiokafka's
``AIOKafkaConsumer`` (the one FastStream's subscriber runs) has them, and so does the tests' in-memory consumer,
which models commits, revocations, assignments and redelivery from the committed position, so that the same test
bodies run in memory and on a real broker.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from aiokafka import ConsumerRebalanceListener, TopicPartition

from gateway.kafka.flow import OffsetTracker, Partition
from gateway.kafka.stalls import StallWatch
from gateway.runtime.metrics import GatewayMetrics
from gateway.settings import ProcessingSettings

log = logging.getLogger(__name__)


class Consumer(Protocol):
    """What consumer control needs of a Kafka consumer (aiokafka's ``AIOKafkaConsumer`` has it)."""

    def assignment(self) -> set[TopicPartition]: ...

    def pause(self, *partitions: TopicPartition) -> None: ...

    def resume(self, *partitions: TopicPartition) -> None: ...

    async def commit(self, offsets: dict[TopicPartition, int]) -> None: ...

    async def committed(self, partition: TopicPartition) -> int | None: ...

    async def position(self, partition: TopicPartition) -> int: ...

    def highwater(self, partition: TopicPartition) -> int | None: ...

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]: ...


class Consumption:
    def __init__(
        self,
        processing: ProcessingSettings,
        tracker: OffsetTracker,
        metrics: GatewayMetrics,
    ) -> None:
        self._processing = processing
        self._tracker = tracker
        self._metrics = metrics
        self._consumer: Callable[[], Consumer | None] = _none
        self.stalls = StallWatch(processing.stall_after_s)
        self.listener = Rebalance(self)
        self._paused: set[str] = set()  # why consumption is paused: "capacity", "circuit", "shutdown"
        self._held: dict[Partition, int] = {}  # partitions stopped at a record nothing could be published for

    def attach(self, consumer: Callable[[], Consumer | None]) -> None:
        """Where the consumer is: ``None`` until the subscriber runs."""
        self._consumer = consumer

    @property
    def paused_for(self) -> frozenset[str]:
        return frozenset(self._paused)

    def paused_by(self, reason: str) -> bool:
        return reason in self._paused

    @property
    def held(self) -> dict[Partition, int]:
        return dict(self._held)

    def assignment(self) -> set[Partition]:
        consumer = self._consumer()
        if consumer is None:
            return set()
        return {(tp.topic, tp.partition) for tp in consumer.assignment()}

    # -- pausing --------------------------------------------------------------------------------------------

    def pause(self, reason: str) -> None:
        first = not self._paused
        self._paused.add(reason)
        consumer = self._consumer()
        if first and consumer is not None:
            consumer.pause(*consumer.assignment())
            log.info("consumption paused (%s)", reason)

    def resume(self, reason: str) -> None:
        self._paused.discard(reason)
        consumer = self._consumer()
        if not self._paused and consumer is not None:
            consumer.resume(*[tp for tp in consumer.assignment() if (tp.topic, tp.partition) not in self._held])
            log.info("consumption resumed")

    def hold(self, partition: Partition, offset: int) -> None:
        """Nothing could be published for ``offset``: the partition stops there (paused, stalled, its commits
        below the record) until it is revoked or the gateway restarts."""
        if partition not in self.assignment():
            return  # revoked meanwhile: its next owner meets the record again
        self._held[partition] = min(offset, self._held.get(partition, offset))
        self._tracker.hold(partition, offset)
        self.stalls.hold(partition)
        consumer = self._consumer()
        if consumer is not None:
            consumer.pause(TopicPartition(*partition))

    # -- commits, lag -------------------------------------------------------------------------------------

    async def commit(self, partitions: set[Partition] | None = None) -> None:
        """Commit, in one request, every partition whose finished work moved (``partitions``: only those)."""
        consumer = self._consumer()
        if consumer is None:
            return
        owned = self.assignment() if partitions is None else partitions
        moves = self._tracker.to_commit(owned)
        if not moves:
            return
        try:
            await consumer.commit({TopicPartition(topic, p): offset for (topic, p), offset in moves.items()})
        except Exception:
            log.warning("commit failed; the events will be delivered again", exc_info=True)
            return
        self._tracker.committed(moves)

    async def measure(self) -> None:
        """Lag and stalls of every assigned partition, into the gauges."""
        consumer = self._consumer()
        if consumer is None:
            return
        assignment = consumer.assignment()
        ends = await self._end_offsets(consumer, assignment) if self._paused else {}
        for tp in assignment:
            highwater = ends.get(tp, consumer.highwater(tp))
            position = await consumer.position(tp)
            if highwater is not None:
                self._metrics.consumer_lag.labels(str(tp.partition)).set(max(0, highwater - position))
            self.stalls.observe((tp.topic, tp.partition), position, highwater, paused=bool(self._paused))
        stalled = self.stalls.stalled()
        for tp in assignment:
            self._metrics.partition_stalled.labels(str(tp.partition)).set(stalled.get((tp.topic, tp.partition), 0.0))

    @staticmethod
    async def _end_offsets(consumer: Consumer, assignment: set[TopicPartition]) -> dict[TopicPartition, int]:
        """The partitions' ends, asked of the broker: a paused partition fetches nothing, so the highwater mark of
        its last fetch is stale and the lag it gives would hide every record written since the pause."""
        try:
            return await consumer.end_offsets(list(assignment))
        except Exception:  # a broker that does not answer now is asked again at the next measure
            log.debug("end offsets unavailable; lag from the last fetch", exc_info=True)
            return {}

    # -- rebalances -----------------------------------------------------------------------------------------

    async def partitions_revoked(self, revoked: set[Partition]) -> None:
        deadline = time.monotonic() + self._processing.drain_timeout_s
        # Polling is enough here: a rebalance is rare, and the tracker stays free of per-partition events.
        while self._tracker.pending(revoked) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        await self.commit(revoked)
        self._tracker.forget(revoked)
        self.stalls.forget(revoked)
        for partition in revoked:
            self._held.pop(partition, None)

    async def partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        consumer = self._consumer()
        if consumer is None or not assigned:
            return
        if self._paused:
            consumer.pause(*assigned)
        # Records already in the partition may have been filed by its previous owner: mark them for a status check.
        ends = await consumer.end_offsets(list(assigned))
        for tp in assigned:
            start = await consumer.committed(tp) or 0
            end = min(ends[tp], start + self._processing.redelivery_window)
            self._tracker.suspect((tp.topic, tp.partition), start, end)


def _none() -> None:
    return None


class Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Commits finished work of partitions before they are handed to another instance."""

    def __init__(self, consumption: Consumption) -> None:
        self._consumption = consumption

    async def on_partitions_revoked(self, revoked: Any) -> None:
        partitions = {(tp.topic, tp.partition) for tp in revoked}
        if partitions:
            await self._consumption.partitions_revoked(partitions)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self._consumption.partitions_assigned(set(assigned))
