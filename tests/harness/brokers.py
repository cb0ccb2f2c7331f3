"""One test harness, two brokers: what a shared test body needs of a broker, in memory and on Tansu.

A body (``tests/harness/bodies.py``) asks its ``Broker`` for settings (fresh topics and group), a running gateway,
a producer, an outcome reader, the group's committed offsets, and a crash; ``InMemory`` answers with the cluster of
``tests/harness/memory.py`` and the mock in process (no socket: ``tests/unit``), ``OnTansu`` with the session's
Tansu broker and the mock over HTTP (``tests/integration``). The gateway is the real one either way, built by the
composition root: only how it reaches Kafka (and, in memory, customs) differs.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from adapters.http_customs_endpoint import HttpCustomsEndpoint
from ecuapass_mock.faults import FaultSettings
from gateway.bootstrap import build_gateway
from gateway.devstack.broker import TansuBroker
from gateway.devstack.demo import OutcomeReader, exchange
from gateway.kafka.records import Received
from gateway.kafka.service import Gateway
from gateway.kafka.topics import ensure_topics
from gateway.kafka.wiring import Wiring
from gateway.ports import CustomsEndpoint
from gateway.settings import OpsSettings, Settings
from gateway.tools.examples import Example
from tests.harness import customs as mock
from tests.harness.customs import Customs
from tests.harness.memory import Cluster, MemoryConnection, MemoryProducer, MemoryReader
from tests.harness.outcomes import Reader
from tests.integration.conftest import make_settings, publish

Headers = Sequence[tuple[str, bytes | None]]
Events = Sequence[tuple[bytes, bytes, str]]  # key, value, event id (tests.integration.conftest.authorization_events)


class Producer(Protocol):
    async def send_and_wait(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, *, headers: Any = None
    ) -> Any: ...


class Broker(Protocol):
    name: str

    def customs(self, faults: FaultSettings | None = None) -> contextlib.AbstractAsyncContextManager[Customs]: ...

    async def settings(self, customs: Customs, **sections: Any) -> Settings:
        """A test's own topics (created) and consumer group, filing with ``customs``."""
        ...

    def gateway(self, settings: Settings, customs: Customs, *, endpoint: CustomsEndpoint | None = None) -> Gateway: ...

    def producer(self, settings: Settings) -> contextlib.AbstractAsyncContextManager[Producer]: ...

    async def publish(self, settings: Settings, events: Events) -> None:
        """``events`` to the input topic, as one producer's batch (they reach the gateway in one poll or few)."""
        ...

    def reader(self, settings: Settings) -> contextlib.AbstractAsyncContextManager[Reader]:
        """Outcomes written from now on."""
        ...

    async def exchange(
        self, settings: Settings, cases: Sequence[Example], timeout_s: float
    ) -> dict[Example, Received | None]: ...

    async def committed(self, settings: Settings) -> dict[int, int | None]:
        """The group's committed offset of each input partition."""
        ...

    async def ends(self, settings: Settings) -> dict[int, int]: ...

    async def leave(self, gateway: Gateway) -> None:
        """``gateway``'s consumer is out of its group at once, committing nothing (half of a crash)."""
        ...

    def assignment(self, gateway: Gateway) -> set[TopicPartition]:
        """What ``gateway``'s consumer holds, as the consumer itself says."""
        ...

    def paused(self, gateway: Gateway) -> set[TopicPartition]:
        """The partitions ``gateway``'s consumer does not fetch from, as the consumer itself says."""
        ...


@contextlib.asynccontextmanager
async def running(
    broker: Broker, settings: Settings, customs: Customs, *, endpoint: CustomsEndpoint | None = None
) -> AsyncIterator[Gateway]:
    """A started gateway with its partitions, stopped (gracefully) at the end of the block."""
    gateway = broker.gateway(settings, customs, endpoint=endpoint)
    await gateway.start()
    try:
        await gateway.wait_assigned()
        yield gateway
    finally:
        await gateway.stop()


async def crash(broker: Broker, gateway: Gateway) -> None:
    """What a SIGKILL leaves behind: the events in flight abandoned (no outcome, nothing committed past them), the
    consumer gone from its group, its partitions handed to the others. ``gateway.stop()`` then only cleans up."""
    gateway.handler.accepting = False
    await gateway.scheduler.cancel()
    await broker.leave(gateway)


class InMemory:
    name = "memory"

    def __init__(self) -> None:
        self.cluster = Cluster()
        self._connections: dict[int, MemoryConnection] = {}

    def customs(self, faults: FaultSettings | None = None) -> contextlib.AbstractAsyncContextManager[Customs]:
        return mock.in_process(faults)

    async def settings(self, customs: Customs, **sections: Any) -> Settings:
        sections.setdefault("ops", OpsSettings(enabled=False))  # no socket in memory
        made = make_settings("memory:9092", customs.url, **sections)
        topics = made.topics
        self.cluster.create([topics.input, topics.acks, topics.rejections, topics.dlq], topics.partitions)
        return made

    def gateway(self, settings: Settings, customs: Customs, *, endpoint: CustomsEndpoint | None = None) -> Gateway:
        if endpoint is None:
            endpoint = HttpCustomsEndpoint(settings.ecuapass, settings.retry, transport=customs.transport)
        return build_gateway(settings, endpoint=endpoint, kafka=self._connect)

    def _connect(self, settings: Settings, wiring: Wiring) -> MemoryConnection:
        connection = MemoryConnection(self.cluster, settings, wiring)
        self._connections[id(wiring.subscriber)] = connection
        return connection

    @contextlib.asynccontextmanager
    async def producer(self, settings: Settings) -> AsyncIterator[Producer]:
        yield MemoryProducer(self.cluster)

    @contextlib.asynccontextmanager
    async def reader(self, settings: Settings) -> AsyncIterator[Reader]:
        yield MemoryReader(self.cluster, settings)

    async def publish(self, settings: Settings, events: Events) -> None:
        for key, value, _ in events:  # no await in between: one batch
            self.cluster.append(settings.topics.input, value, key, ())

    async def exchange(
        self, settings: Settings, cases: Sequence[Example], timeout_s: float
    ) -> dict[Example, Received | None]:
        clients = (MemoryProducer(self.cluster), MemoryReader(self.cluster, settings))
        return await exchange(settings, cases, timeout_s=timeout_s, clients=clients)

    async def committed(self, settings: Settings) -> dict[int, int | None]:
        return {
            tp.partition: self.cluster.committed(settings.kafka.group_id, tp)
            for tp in self.cluster.partitions(settings.topics.input)
        }

    async def ends(self, settings: Settings) -> dict[int, int]:
        return {tp.partition: self.cluster.end(tp) for tp in self.cluster.partitions(settings.topics.input)}

    async def leave(self, gateway: Gateway) -> None:
        await self._connections[id(gateway.subscriber)].leave()

    def assignment(self, gateway: Gateway) -> set[TopicPartition]:
        consumer = self._connections[id(gateway.subscriber)].consumer()
        return set() if consumer is None else consumer.assignment()

    def paused(self, gateway: Gateway) -> set[TopicPartition]:
        consumer = self._connections[id(gateway.subscriber)].consumer()
        return set() if consumer is None else consumer.paused()


class OnTansu:
    name = "tansu"

    def __init__(self, tansu: TansuBroker) -> None:
        self._tansu = tansu

    def customs(self, faults: FaultSettings | None = None) -> contextlib.AbstractAsyncContextManager[Customs]:
        return mock.over_http(faults)

    async def settings(self, customs: Customs, **sections: Any) -> Settings:
        made = make_settings(self._tansu.bootstrap_servers, customs.url, **sections)
        await ensure_topics(made)
        return made

    def gateway(self, settings: Settings, customs: Customs, *, endpoint: CustomsEndpoint | None = None) -> Gateway:
        return build_gateway(settings, endpoint=endpoint)

    @contextlib.asynccontextmanager
    async def producer(self, settings: Settings) -> AsyncIterator[Producer]:
        producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka.bootstrap_servers, linger_ms=5, max_request_size=4 * 1_048_576
        )
        await producer.start()
        try:
            yield producer
        finally:
            await producer.stop()

    async def publish(self, settings: Settings, events: Events) -> None:
        await publish(settings, list(events))

    @contextlib.asynccontextmanager
    async def reader(self, settings: Settings) -> AsyncIterator[Reader]:
        reader = OutcomeReader(settings)
        await reader.start()
        try:
            yield reader
        finally:
            await reader.stop()

    async def exchange(
        self, settings: Settings, cases: Sequence[Example], timeout_s: float
    ) -> dict[Example, Received | None]:
        return await exchange(settings, cases, timeout_s=timeout_s)

    async def committed(self, settings: Settings) -> dict[int, int | None]:
        partitions = [TopicPartition(settings.topics.input, p) for p in range(settings.topics.partitions)]
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap_servers)
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(settings.kafka.group_id, partitions=partitions)
        finally:
            await admin.close()
        found = {tp.partition: offsets.get(tp) for tp in partitions}
        return {p: (None if o is None or o.offset < 0 else int(o.offset)) for p, o in found.items()}

    async def ends(self, settings: Settings) -> dict[int, int]:
        consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka.bootstrap_servers, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [TopicPartition(settings.topics.input, p) for p in range(settings.topics.partitions)]
            ends = await consumer.end_offsets(partitions)
        finally:
            await consumer.stop()
        return {tp.partition: offset for tp, offset in ends.items()}

    async def leave(self, gateway: Gateway) -> None:
        await gateway.subscriber.stop()  # aiokafka's consumer leaves its group; nothing is committed

    def assignment(self, gateway: Gateway) -> set[TopicPartition]:
        return set(gateway.subscriber.consumer.assignment())

    def paused(self, gateway: Gateway) -> set[TopicPartition]:
        return set(gateway.subscriber.consumer.paused())
