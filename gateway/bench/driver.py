"""The benchmark's side of Kafka: publishing the events (all at once, or at a steady rate) and collecting outcomes.

Each published record carries the time it was handed to the producer as its Kafka timestamp (the event time); the
system under test publishes its outcome with its own producer's timestamp. End-to-end latency is the difference,
matched by event id (``data.answered_event_id`` of an outcome, ``id`` of a copied or dead-lettered event). Both
clocks are this machine's; timestamps have millisecond resolution.

The collector reads the outcome topics from their beginning with an assigned (group-less) consumer, so it costs no
group join, and keeps raw records only: parsing waits until the measured window is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from gateway.bench.workload import Event
from gateway.kafka import records
from gateway.settings import Settings

TICK_S = 0.005


@dataclass(slots=True)
class Outcome:
    outcome: str  # accepted, rejected, dead_letter: which topic it came from
    timestamp_ms: int
    value: bytes


@dataclass(slots=True)
class Phase:
    """What one phase published and what came back."""

    sent_ms: dict[str, int] = field(default_factory=dict)  # event id -> timestamp given to its record
    outcomes: list[Outcome] = field(default_factory=list)
    first_sent_ms: int = 0


class Publisher:
    def __init__(self, settings: Settings) -> None:
        self._topic = settings.topics.input
        self._producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka.bootstrap_servers,
            acks="all",
            linger_ms=0,
            max_batch_size=262_144,
            max_request_size=4_194_304,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def burst(self, events: Sequence[Event], phase: Phase) -> None:
        """Every event as fast as the producer takes them (a backlog builds up at once)."""
        phase.first_sent_ms = _now_ms()
        futures = []
        for event in events:
            stamp = _now_ms()
            phase.sent_ms[event.event_id] = stamp
            futures.append(await self._producer.send(self._topic, event.value, key=event.key, timestamp_ms=stamp))
        await asyncio.gather(*futures)

    async def paced(self, events: Sequence[Event], rate: float, phase: Phase) -> None:
        """The events spread evenly at ``rate`` per second (open loop: the pace does not wait for outcomes)."""
        started = time.monotonic()
        phase.first_sent_ms = _now_ms()
        futures = []
        sent = 0
        while sent < len(events):
            due = min(len(events), int((time.monotonic() - started) * rate) + 1)
            while sent < due:
                event = events[sent]
                stamp = _now_ms()
                phase.sent_ms[event.event_id] = stamp
                futures.append(await self._producer.send(self._topic, event.value, key=event.key, timestamp_ms=stamp))
                sent += 1
            next_due = started + sent / rate
            await asyncio.sleep(max(0.0, min(TICK_S, next_due - time.monotonic())))
        await asyncio.gather(*futures)


class Collector:
    """Reads every outcome topic (acks, rejections, dead letters) into the current phase, in a background task."""

    def __init__(self, settings: Settings) -> None:
        # The report's labels are the metrics' (dead_letter), the topics those of the outcome records.
        self._outcomes = {
            topic: outcome.replace("-", "_") for topic, outcome in records.outcome_topics(settings.topics).items()
        }
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka.bootstrap_servers,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=20,
            max_partition_fetch_bytes=4_194_304,
        )
        self._task: asyncio.Task[None] | None = None
        self._arrived = asyncio.Event()
        self.phase = Phase()

    async def start(self) -> None:
        await self._consumer.start()
        await self._consumer.topics()  # refresh metadata
        partitions = [
            TopicPartition(topic, p)
            for topic in self._outcomes
            for p in sorted(self._consumer.partitions_for_topic(topic) or ())
        ]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_beginning(*partitions)
        self._task = asyncio.create_task(self._read(), name="bench-collector")

    async def _read(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=5_000)
            for tp, polled in batches.items():
                self.phase.outcomes += [
                    Outcome(self._outcomes[tp.topic], record.timestamp, record.value or b"") for record in polled
                ]
            if batches:
                self._arrived.set()

    async def wait_for(self, count: int, timeout_s: float) -> bool:
        """Until the current phase has ``count`` outcomes; False when the time ran out first."""
        deadline = time.monotonic() + timeout_s
        while len(self.phase.outcomes) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):  # not wait_for: on 3.11 it can swallow a cancellation
                async with asyncio.timeout(min(remaining, 0.5)):
                    await self._arrived.wait()
        return True

    def next_phase(self) -> Phase:
        done, self.phase = self.phase, Phase()
        return done

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()


def answered(outcome: Outcome) -> str | None:
    """The id of the event an outcome answers."""
    try:
        body = json.loads(outcome.value)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    data = body.get("data")
    if isinstance(data, dict) and str(body.get("type", "")).startswith("ecuapass.gateway."):
        return str(data.get("answered_event_id"))
    event_id = body.get("id")
    return event_id if isinstance(event_id, str) else None


def _now_ms() -> int:
    return int(time.time() * 1000)
