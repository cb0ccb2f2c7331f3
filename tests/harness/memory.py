"""Kafka in memory, for the gateway's own code: partitions and offsets, a consumer group that rebalances, commits.

FastStream's ``TestKafkaBroker`` hands a published message straight to the subscriber: no partitions, offsets,
commits or rebalances, so tests of the gateway's consumer control would pass without testing anything. Here
``TestKafkaBroker`` only keeps the FastStream broker from connecting, and this cluster does the rest:

- ``Cluster``: topics of partitions of ``ConsumerRecord``s (keys partitioned with the Java client's murmur2, as
  aiokafka's producer does); per consumer group the committed offsets, every commit (``commits``), its members.
- ``MemoryProducer`` (the gateway's ``Producer``): refuses a record larger than ``max_request_size`` with
  ``MessageSizeTooLargeError`` as aiokafka does (same size estimate), and any record of a topic ``refuse()``d.
- ``MemoryConsumer`` (the gateway's ``Consumer``): polls its assigned, unpaused partitions from its positions and
  hands each poll to the FastStream subscriber (``subscriber.consume``, as FastStream's own loop does). A member
  joining or leaving rebalances the group like aiokafka's eager protocol: every member's rebalance listener is told
  its partitions are revoked (while it still owns them, so it can commit), then what it is assigned, starting from
  the group's committed offset: what was not committed is delivered again. Committing when not a member fails
  (``CommitFailedError``), as it does after a consumer was dropped from its group.
- ``MemoryConnection`` (the gateway's ``KafkaConnection``) and ``MemoryReader`` (the back-end's outcome reader).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, MessageSizeTooLargeError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from faststream.kafka import TestKafkaBroker

from gateway.kafka import records
from gateway.kafka.records import Received
from gateway.kafka.wiring import Wiring
from gateway.settings import Settings

Headers = Sequence[tuple[str, bytes | None]]


@dataclass(frozen=True, slots=True)
class Written:
    """What a producer is told once a record is stored (aiokafka's ``RecordMetadata``, in part)."""

    topic: str
    partition: int
    offset: int


@dataclass
class _Group:
    committed: dict[TopicPartition, int] = field(default_factory=dict)
    members: list[MemoryConsumer] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Cluster:
    def __init__(self) -> None:
        self._logs: dict[str, list[list[ConsumerRecord]]] = {}
        self._groups: dict[str, _Group] = {}
        self._refused: dict[str, Exception] = {}
        self._changed = asyncio.Event()
        self.commits: list[tuple[str, dict[TopicPartition, int]]] = []

    # -- topics and records -----------------------------------------------------------------------------------

    def create(self, topics: Iterable[str], partitions: int) -> None:
        for topic in topics:
            self._logs.setdefault(topic, [[] for _ in range(partitions)])

    def partitions(self, topic: str) -> list[TopicPartition]:
        return [TopicPartition(topic, p) for p in range(len(self._logs.get(topic, ())))]

    def log(self, tp: TopicPartition) -> list[ConsumerRecord]:
        return self._logs[tp.topic][tp.partition]

    def end(self, tp: TopicPartition) -> int:
        return len(self.log(tp))

    def refuse(self, topic: str, error: Exception) -> None:
        """Every record for ``topic`` fails with ``error`` (a topic the broker will not take)."""
        self._refused[topic] = error

    def append(
        self, topic: str, value: bytes | None, key: bytes | None, headers: Headers, partition: int | None = None
    ) -> Written:
        if topic in self._refused:
            raise self._refused[topic]
        logs = self._logs[topic]
        if partition is None:
            partition = DefaultPartitioner()(key, list(range(len(logs))), list(range(len(logs))))
        log = logs[partition]
        log.append(
            ConsumerRecord(
                topic=topic,
                partition=partition,
                offset=len(log),
                timestamp=int(time.time() * 1000),
                timestamp_type=0,
                key=key,
                value=value,
                checksum=None,
                serialized_key_size=len(key or b""),
                serialized_value_size=len(value or b""),
                headers=tuple(headers),
            )
        )
        self.poke()
        return Written(topic, partition, len(log) - 1)

    def poke(self) -> None:
        """Wake whoever waits for records (appended, resumed, assigned)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def changed(self, timeout_s: float) -> None:
        # Not asyncio.wait_for: on Python 3.11 a cancellation that arrives as the event is set is swallowed, and the
        # polling loop that called it went on forever (a gateway's stop hung, once in some twenty runs).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._changed.wait()

    # -- consumer groups --------------------------------------------------------------------------------------

    def committed(self, group: str, tp: TopicPartition) -> int | None:
        found = self._groups.get(group)
        return None if found is None else found.committed.get(tp)

    def commit(self, group: str, offsets: dict[TopicPartition, int]) -> None:
        self._groups.setdefault(group, _Group()).committed.update(offsets)
        self.commits.append((group, dict(offsets)))

    async def join(self, member: MemoryConsumer) -> None:
        group = self._groups.setdefault(member.group, _Group())
        async with group.lock:
            group.members.append(member)
            await self._rebalance(group)

    async def leave(self, member: MemoryConsumer) -> None:
        """``member`` is out of its group (it left, or it died): the others share its partitions."""
        group = self._groups[member.group]
        async with group.lock:
            if member in group.members:
                group.members.remove(member)
            member.dropped()
            await self._rebalance(group)

    async def _rebalance(self, group: _Group) -> None:
        members = list(group.members)
        await asyncio.gather(*(member.revoke() for member in members))
        partitions = sorted({tp for member in members for tp in self.partitions(member.topic)})
        shares: dict[int, set[TopicPartition]] = {n: set() for n in range(len(members))}
        for n, tp in enumerate(partitions):  # round robin, aiokafka's default assignor
            shares[n % len(members)].add(tp)
        await asyncio.gather(*(member.assign(shares[n]) for n, member in enumerate(members)))


class MemoryProducer:
    def __init__(self, cluster: Cluster, max_request_size: int = 1_048_576) -> None:
        self._cluster = cluster
        self._max_request_size = max_request_size

    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        *,
        partition: int | None = None,
        headers: Headers | None = None,
    ) -> Written:
        size = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, list(headers or ()))
        if size > self._max_request_size:
            raise MessageSizeTooLargeError(
                f"The message is {size} bytes when serialized which is larger than the maximum request size"
            )
        await asyncio.sleep(0)  # a confirmed send is never immediate
        return self._cluster.append(topic, value, key, headers or (), partition)

    async def send(self, topic: str, value: bytes, key: bytes | None = None) -> Written:
        return await self.send_and_wait(topic, value, key)

    async def flush(self) -> None:
        return None


class MemoryConsumer:
    def __init__(
        self,
        cluster: Cluster,
        group: str,
        topic: str,
        *,
        listener: ConsumerRebalanceListener | None,
        deliver: Callable[[tuple[ConsumerRecord, ...]], Awaitable[Any]],
        max_records: int,
        from_earliest: bool = True,
    ) -> None:
        self._cluster = cluster
        self.group, self.topic = group, topic
        self._listener = listener
        self._deliver = deliver
        self._max_records = max_records
        self._from_earliest = from_earliest
        self._assigned: set[TopicPartition] = set()
        self._paused: set[TopicPartition] = set()
        self._positions: dict[TopicPartition, int] = {}
        self._member = True
        self._rebalancing = False
        self._polling: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._polling = asyncio.create_task(self._poll(), name=f"memory-consumer-{self.group}")

    async def stop(self) -> None:
        if self._polling is not None:
            self._polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._polling

    # -- the gateway's Consumer -------------------------------------------------------------------------------

    def assignment(self) -> set[TopicPartition]:
        return set(self._assigned)

    def pause(self, *partitions: TopicPartition) -> None:
        self._paused |= set(partitions) & self._assigned

    def resume(self, *partitions: TopicPartition) -> None:
        self._paused -= set(partitions)
        self._cluster.poke()

    def paused(self) -> set[TopicPartition]:
        return set(self._paused)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if not self._member:
            raise CommitFailedError("this consumer is no longer a member of its group")
        if not set(offsets) <= self._assigned:
            raise IllegalStateError(f"partitions {set(offsets) - self._assigned} are not assigned")
        await asyncio.sleep(0)
        self._cluster.commit(self.group, offsets)

    async def committed(self, partition: TopicPartition) -> int | None:
        return self._cluster.committed(self.group, partition)

    async def position(self, partition: TopicPartition) -> int:
        return self._positions[partition]

    def highwater(self, partition: TopicPartition) -> int | None:
        return self._cluster.end(partition)

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self._cluster.end(tp) for tp in partitions}

    # -- the group ----------------------------------------------------------------------------------------------

    async def revoke(self) -> None:
        """The group rebalances: the listener hears of the revocation while the partitions are still ours."""
        self._rebalancing = True
        if self._listener is not None:
            await self._listener.on_partitions_revoked(set(self._assigned))
        self._assigned, self._paused, self._positions = set(), set(), {}

    async def assign(self, partitions: set[TopicPartition]) -> None:
        self._assigned = set(partitions)
        for tp in partitions:
            committed = self._cluster.committed(self.group, tp)
            reset = 0 if self._from_earliest else self._cluster.end(tp)
            self._positions[tp] = committed if committed is not None else reset
        if self._listener is not None:
            await self._listener.on_partitions_assigned(set(partitions))
        self._rebalancing = False
        self._cluster.poke()

    @property
    def member(self) -> bool:
        return self._member

    def dropped(self) -> None:
        self._member = False
        self._assigned, self._paused, self._positions = set(), set(), {}

    # -- polling ------------------------------------------------------------------------------------------------

    def _take(self) -> list[ConsumerRecord]:
        batch: list[ConsumerRecord] = []
        if self._rebalancing:
            return batch
        for tp in sorted(self._assigned - self._paused):
            log, position = self._cluster.log(tp), self._positions[tp]
            taken = log[position : position + self._max_records - len(batch)]
            batch += taken
            self._positions[tp] = position + len(taken)
        return batch

    async def _poll(self) -> None:
        while True:
            batch = self._take()
            if batch:
                await self._deliver(tuple(batch))
                await asyncio.sleep(0)
            else:
                await self._cluster.changed(timeout_s=0.1)


class MemoryConnection:
    """The gateway's ``KafkaConnection`` to a ``Cluster``: the FastStream broker does not connect
    (``TestKafkaBroker``); its subscriber gets the polls of a ``MemoryConsumer``."""

    def __init__(self, cluster: Cluster, settings: Settings, wiring: Wiring) -> None:
        self._cluster = cluster
        self._settings = settings
        self._wiring = wiring
        self._testing: TestKafkaBroker | None = None
        self._consumer: MemoryConsumer | None = None

    async def connect(self) -> MemoryProducer:
        if self._settings.topics.create_missing:
            topics = self._settings.topics
            self._cluster.create([topics.input, topics.acks, topics.rejections, topics.dlq], topics.partitions)
        return MemoryProducer(self._cluster, self._settings.kafka.max_message_bytes)

    async def consume(self) -> None:
        self._testing = TestKafkaBroker(self._wiring.broker, connect_only=False)
        await self._testing.__aenter__()
        self._consumer = MemoryConsumer(
            self._cluster,
            self._settings.kafka.group_id,
            self._settings.topics.input,
            listener=self._wiring.listener,
            deliver=self._wiring.subscriber.consume,
            max_records=self._settings.processing.batch_max_records,
            from_earliest=self._settings.kafka.auto_offset_reset == "earliest",
        )
        await self._cluster.join(self._consumer)
        self._consumer.start()

    def consumer(self) -> MemoryConsumer | None:
        return self._consumer

    async def ping(self) -> bool:
        return True

    async def leave(self) -> None:
        """Out of the group, without a word (a process that died, or a consumer that stopped)."""
        if self._consumer is not None and self._consumer.member:
            await self._consumer.stop()
            await self._cluster.leave(self._consumer)

    async def close(self) -> None:
        await self.leave()
        if self._testing is not None:
            testing, self._testing = self._testing, None
            await testing.__aexit__(None, None, None)


class MemoryReader:
    """Outcomes written since it started (``OutcomeReader``, in memory)."""

    def __init__(self, cluster: Cluster, settings: Settings) -> None:
        self._cluster = cluster
        self._outcomes = records.outcome_topics(settings.topics)
        self._positions = {tp: cluster.end(tp) for topic in self._outcomes for tp in cluster.partitions(topic)}

    async def read(self, timeout_ms: int = 200) -> list[Received]:
        found = self._new()
        if not found:
            await self._cluster.changed(timeout_ms / 1000)
            found = self._new()
        return found

    def _new(self) -> list[Received]:
        found = []
        for tp, position in self._positions.items():
            log = self._cluster.log(tp)
            found += [records.received(self._outcomes[tp.topic], record) for record in log[position:]]
            self._positions[tp] = len(log)
        return found
