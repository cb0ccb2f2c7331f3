"""How a running gateway reaches Kafka: the port (``KafkaConnection``) and the real broker behind it.

    Gateway.start -> connect() (the cluster answers, topics exist, the producer runs) -> consume() (the subscriber
                     joins its group: polls reach the handler, rebalances the listener)
    Gateway.stop  -> close() (the subscriber leaves, the producer flushes and stops)

``BrokerConnection`` does it with the wired FastStream broker (``gateway.kafka.wiring``) and aiokafka's producer.
Tests give the composition root another ``ConnectionFactory``: an in-memory cluster behind the same port, so the
gateway's own code runs unchanged in memory and on a real broker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from aiokafka import AIOKafkaProducer

from gateway.kafka import unreadable
from gateway.kafka.consumption import Consumer
from gateway.kafka.publisher import Producer, new_producer
from gateway.kafka.security import check_connection, kafka_errors
from gateway.kafka.topics import ensure_topics
from gateway.kafka.wiring import Wiring
from gateway.settings import Settings


class KafkaConnection(Protocol):
    async def connect(self) -> Producer:
        """Check the cluster answers, create missing topics (when configured), start the producer."""
        ...

    async def consume(self) -> None:
        """Start the subscriber: from now on polls reach the handler."""
        ...

    def consumer(self) -> Consumer | None:
        """The subscriber's consumer, once it runs."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None:
        """Stop what ``connect`` and ``consume`` started (either may have failed)."""
        ...


ConnectionFactory = Callable[[Settings, Wiring], KafkaConnection]


class BrokerConnection:
    def __init__(self, settings: Settings, wiring: Wiring) -> None:
        self._settings = settings
        self._wiring = wiring
        self._producer: AIOKafkaProducer | None = None
        self._consuming = False
        unreadable.install()  # aiokafka's fetcher hands on what it cannot read as records, from the first poll

    async def connect(self) -> Producer:
        kafka = self._settings.kafka
        await check_connection(kafka)
        if self._settings.topics.create_missing:
            await ensure_topics(self._settings)
        producer = new_producer(kafka)
        async with kafka_errors(kafka):
            await producer.start()
        self._producer = producer
        started: Producer = producer
        return started

    async def consume(self) -> None:
        async with kafka_errors(self._settings.kafka):
            await self._wiring.broker.start()
        self._consuming = True

    def consumer(self) -> Consumer | None:
        consumer: Consumer | None = self._wiring.subscriber.consumer
        return consumer

    async def ping(self) -> bool:
        return bool(await self._wiring.broker.ping(timeout=2.0))

    async def close(self) -> None:
        if self._consuming:
            self._consuming = False
            await self._wiring.broker.stop()
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()
