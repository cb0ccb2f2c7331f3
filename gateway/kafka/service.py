"""The running gateway: a FastStream Kafka subscriber feeding the pipeline, outcomes published, commits owned.

Delivery is at-least-once and the gateway owns its commits. The subscriber's acknowledgement policy is ``MANUAL``
(FastStream's Kafka default, ``ACK_FIRST``, commits before the handler runs and loses events on a crash), and
``msg.ack()`` is never called: it would commit the consumer's whole position, past events still in flight.

    poll (FastStream batch handler) -> CaseScheduler (one case in order, cases in parallel)
        -> Pipeline.process -> records.encode -> publish the outcome, confirmed -> OffsetTracker.finished
    every commit interval: commit, per partition, the lowest offset whose outcome is not out yet

Outcomes go through the gateway's own producer, not FastStream's publishers (declared for the AsyncAPI document
only): those add headers of their own (a random ``correlation_id``, an empty ``content-type``) and take header values
as text, while a dead letter must keep the original headers byte for byte. A batch the client cannot read (a codec,
a corrupt batch) reaches the handler as one record standing for its offset range (``gateway.kafka.unreadable``) and
becomes a dead letter like any other record; a partition that still does not move is reported as stalled.

The handler never blocks: when ``max_in_flight`` events are in flight, or the circuit to customs is open, the
assigned partitions are paused (the consumer keeps polling, so it stays in its group) and resumed later. On a
rebalance, finished work of the revoked partitions is committed before they go; on shutdown, in-flight events get
``drain_timeout_s`` to finish, what finished is committed, and the rest is delivered again to whoever comes next.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aiokafka import AIOKafkaProducer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.message import FAKE_CONSUMER
from faststream.kafka.message import KafkaMessage as PolledRecords
from opentelemetry.trace import SpanKind

from gateway.circuit import CircuitBreaker, State
from gateway.kafka import records, unreadable
from gateway.kafka.flow import CaseScheduler, OffsetTracker, Partition
from gateway.kafka.headers import as_text
from gateway.kafka.security import broker_security, check_connection, client_security, kafka_errors
from gateway.kafka.stalls import StallWatch
from gateway.kafka.topics import ensure_topics
from gateway.logs import event_context
from gateway.metrics import GatewayMetrics
from gateway.ops import OpsServer
from gateway.outcomes import Acknowledgment, DeadLetter, Rejection
from gateway.pipeline import InboundRecord, Pipeline, ReadFailure
from gateway.ports import CustomsEndpoint
from gateway.settings import Settings
from gateway.tracing import current_trace_id, current_traceparent, extract, tracer

log = logging.getLogger(__name__)


class Gateway:
    def __init__(
        self,
        settings: Settings,
        pipeline: Pipeline,
        endpoint: CustomsEndpoint,
        breaker: CircuitBreaker | None = None,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self.settings = settings
        self._pipeline = pipeline
        self._endpoint = endpoint
        self.breaker = breaker
        self.metrics = metrics or GatewayMetrics()
        self.ops: OpsServer | None = None
        self._last_beat = time.monotonic()
        kafka, processing = settings.kafka, settings.processing
        self.tracker = OffsetTracker()
        self.scheduler = CaseScheduler(processing.max_in_flight, on_finished=self._capacity_freed)
        self._paused: set[str] = set()  # why consumption is paused: "capacity", "circuit", "shutdown"
        self._accepting = True
        self._housekeeping: asyncio.Task[None] | None = None
        self.stalls = StallWatch(processing.stall_after_s)
        self._producer: AIOKafkaProducer | None = None
        unreadable.install()
        self.broker = KafkaBroker(
            kafka.bootstrap_servers,
            client_id=kafka.client_id,
            security=broker_security(kafka),
            request_timeout_ms=kafka.request_timeout_ms,
            graceful_timeout=30.0,
            logger=logging.getLogger("gateway.broker"),  # FastStream's own logger prints to stdout, unformatted
            log_level=logging.DEBUG,  # FastStream logs every message at this level: keep it out of INFO
        )
        self.subscriber = self.broker.subscriber(
            settings.topics.input,
            batch=True,
            max_records=processing.batch_max_records,
            batch_timeout_ms=processing.batch_timeout_ms,
            group_id=kafka.group_id,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset=kafka.auto_offset_reset,
            session_timeout_ms=kafka.session_timeout_ms,
            heartbeat_interval_ms=kafka.heartbeat_interval_ms,
            fetch_max_wait_ms=kafka.fetch_max_wait_ms,
            max_partition_fetch_bytes=max(1_048_576, processing.max_event_bytes * 2),
            listener=_Rebalance(self),
            parser=_unparsed,
            decoder=_undecoded,
            title="case-events",
            description="Canonical régimen-51 case events (CloudEvents 1.0, structured or binary content mode), keyed "
            "by case id.",
        )

        async def handle(message: KafkaMessage) -> None:
            self._dispatch(message.raw_message)

        self.subscriber(handle)
        # Declared for the AsyncAPI document (``contracts/asyncapi.yaml``) only: outcomes go through ``_producer``.
        topics = settings.topics
        self.publishers = {
            topics.acks: self.broker.publisher(
                topics.acks,
                title="acknowledgments",
                schema=Acknowledgment,
                description="Documents customs accepted, with their official numbers (CloudEvents), keyed by case id.",
            ),
            topics.rejections: self.broker.publisher(
                topics.rejections,
                title="rejections",
                schema=Rejection,
                description="Documents refused by the gateway (contract) or by customs, every error with its field.",
            ),
            topics.dlq: self.broker.publisher(
                topics.dlq,
                title="dead-letters",
                schema=bytes,
                description="Records that could not be processed, byte for byte, with dlq.* headers saying why.",
            ),
        }
        if breaker is not None:
            breaker.listen(self._on_circuit)
            self.metrics.set_circuit(breaker.state)

    # -- lifecycle ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        await self._endpoint.probe()
        await check_connection(self.settings.kafka)
        if self.settings.topics.create_missing:
            await ensure_topics(self.settings)
        kafka = self.settings.kafka
        producer = AIOKafkaProducer(
            bootstrap_servers=kafka.bootstrap_servers,
            client_id=kafka.client_id,
            acks="all",
            linger_ms=5,
            max_request_size=kafka.max_message_bytes,
            request_timeout_ms=kafka.request_timeout_ms,
            compression_type=None if kafka.compression_type == "none" else kafka.compression_type,
            **client_security(kafka),
        )
        async with kafka_errors(kafka):
            await producer.start()
        self._producer = producer  # before the first record can arrive
        try:
            async with kafka_errors(kafka):
                await self.broker.start()
        except BaseException:
            await producer.stop()
            raise
        self._housekeeping = asyncio.create_task(self._housekeep(), name="gateway-housekeeping")
        if self.settings.ops.enabled:
            self.ops = OpsServer(self, self.settings.ops.host, self.settings.ops.port)
            await self.ops.start()
            log.info("metrics and health on %s (/metrics, /healthz, /readyz)", self.ops.url)
        # What start-up loaded (modules, compiled XSDs, clients) lives as long as the process: out of the cyclic
        # collector's sight, a full collection walks only what events allocate (24 ms -> none in 6,000 events).
        gc.freeze()
        if not self.settings.agencies:
            log.warning(
                "no agencies configured (GATEWAY_AGENCIES): e-documents are filed unsigned, with the "
                "GATEWAY_ECUAPASS__* credentials, whoever the sender"
            )
        else:
            log.info("signing e-documents for %d agencies", len(self.settings.agencies))
        log.info(
            "gateway consuming %s as group %s from %s",
            self.settings.topics.input,
            self.settings.kafka.group_id,
            self.settings.kafka.bootstrap_servers,
        )

    async def stop(self) -> None:
        """Stop taking events, let in-flight ones finish (bounded), commit what finished, disconnect."""
        self._accepting = False
        self._pause("shutdown")
        timeout = self.settings.processing.drain_timeout_s
        if not await self.scheduler.drain(timeout):
            log.warning(
                "%d events still in flight after %.0f s: they will be delivered again",
                self.scheduler.in_flight,
                timeout,
            )
            await self.scheduler.cancel()
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping
        try:  # aiokafka waits for a coordinator without end: with the broker gone, this would never return
            await asyncio.wait_for(self.commit(), self.settings.kafka.request_timeout_ms / 1000)
        except TimeoutError:
            log.warning("the last commit timed out: events finished since the one before will be delivered again")
        await self.broker.stop()
        if self._producer is not None:
            await self._producer.stop()
        await self._endpoint.aclose()
        if self.ops is not None:
            await self.ops.stop()

    def assigned_partitions(self) -> set[Partition]:
        consumer = self.subscriber.consumer
        if consumer is None:
            return set()
        return {(tp.topic, tp.partition) for tp in consumer.assignment()}

    async def wait_assigned(self, timeout_s: float = 30.0) -> None:
        """Until the consumer group has given this instance its partitions (start-up, tests)."""
        deadline = time.monotonic() + timeout_s
        while not self.assigned_partitions():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no partition of {self.settings.topics.input} assigned in {timeout_s} s")
            await asyncio.sleep(0.05)

    # -- events ---------------------------------------------------------------------------------------------

    def _dispatch(self, batch: Sequence[ConsumerRecord]) -> None:
        if not self._accepting:
            return  # neither tracked nor committed: delivered again after the restart
        for record in batch:
            bad = unreadable.unreadable(record)
            last = bad.last_offset if bad is not None else None
            self.tracker.started((record.topic, record.partition), record.offset, last=last)
            case = record.key if record.key is not None else (record.topic, record.partition, record.offset)
            self.scheduler.submit(case, partial(self._run, record))
        if self.scheduler.in_flight >= self.scheduler.max_in_flight:
            self._pause("capacity")

    async def _run(self, record: ConsumerRecord) -> None:
        inbound = _inbound(record, self.tracker.maybe_redelivered((record.topic, record.partition), record.offset))
        case = record.key.decode("utf-8", "replace") if record.key is not None else None
        attributes = {"messaging.system": "kafka", "messaging.destination.name": record.topic}
        with (
            tracer.start_as_current_span(
                "consume", context=extract(as_text(inbound.headers)), kind=SpanKind.CONSUMER, attributes=attributes
            ),
            event_context(case_id=case, trace_id=current_trace_id()),
        ):
            outcome = await self._pipeline.process(inbound)
            with tracer.start_as_current_span("publish", kind=SpanKind.PRODUCER):
                out = records.encode(
                    outcome, inbound, self.settings.topics, now=datetime.now(UTC), traceparent=current_traceparent()
                )
                await self._publish(out)
            self.tracker.finished((record.topic, record.partition), record.offset)
            event_type = outcome.event_type if isinstance(outcome, DeadLetter) else outcome.data.answered_event_type
            latency = time.time() - record.timestamp / 1000 if record.timestamp and record.timestamp > 0 else None
            self.metrics.record_outcome(event_type or "", outcome, latency)

    async def _publish(self, out: records.OutboundRecord) -> None:
        """Until the broker confirms: the outcome must be out before the offset is committed."""
        assert self._producer is not None, "records are consumed only once the producer has started"
        while True:
            try:
                await self._producer.send_and_wait(out.topic, out.value, key=out.key, headers=out.headers)
                return
            except Exception:
                log.exception("could not publish an outcome to %s; trying again", out.topic)
                await asyncio.sleep(self.settings.processing.publish_retry_s)

    # -- commits, pausing -----------------------------------------------------------------------------------

    async def commit(self, partitions: set[Partition] | None = None) -> None:
        """Commit, in one request, every partition whose finished work moved (``partitions``: only those)."""
        consumer = self.subscriber.consumer
        if consumer is None:
            return
        owned = self.assigned_partitions() if partitions is None else partitions
        moves = self.tracker.to_commit(owned)
        if not moves:
            return
        try:
            await consumer.commit({TopicPartition(topic, p): offset for (topic, p), offset in moves.items()})
        except Exception:
            log.warning("commit failed; the events will be delivered again", exc_info=True)
            return
        self.tracker.committed(moves)

    async def _housekeep(self) -> None:
        interval = self.settings.processing.commit_interval_ms / 1000
        while True:
            await asyncio.sleep(interval)
            self._last_beat = time.monotonic()
            await self.commit()
            await self._measure_lag()

    async def _measure_lag(self) -> None:
        consumer = self.subscriber.consumer
        if consumer is None:
            return
        assignment = consumer.assignment()
        for tp in assignment:
            highwater = consumer.highwater(tp)
            position = await consumer.position(tp)
            if highwater is not None:
                self.metrics.consumer_lag.labels(str(tp.partition)).set(max(0, highwater - position))
            self.stalls.observe((tp.topic, tp.partition), position, highwater, paused=bool(self._paused))
        stalled = self.stalls.stalled()
        for tp in assignment:
            self.metrics.partition_stalled.labels(str(tp.partition)).set(stalled.get((tp.topic, tp.partition), 0.0))

    # -- health ---------------------------------------------------------------------------------------------

    def refresh_gauges(self) -> None:
        self.metrics.in_flight.set(self.scheduler.in_flight)
        self.metrics.paused.set(1 if self._paused - {"shutdown"} else 0)

    def is_alive(self) -> bool:
        """The process works: its housekeeping loop ran recently."""
        running = self._housekeeping is not None and not self._housekeeping.done()
        stale_after = max(5.0, 20 * self.settings.processing.commit_interval_ms / 1000)
        return running and time.monotonic() - self._last_beat < stale_after

    async def readiness(self) -> dict[str, bool]:
        """Ready to take work: the broker answers, partitions are assigned and moving, the circuit to customs is
        not open."""
        return {
            "broker": await self.broker.ping(timeout=2.0),
            "partitions_assigned": bool(self.assigned_partitions()),
            "partitions_moving": not self.stalls.stalled(),
            "customs_circuit_closed": self.breaker is None or self.breaker.state != "open",
            "accepting": self._accepting,
        }

    def _on_circuit(self, state: State) -> None:
        self.metrics.set_circuit(state)
        if state == "open":
            self._pause("circuit")
        elif state == "closed":
            self._resume("circuit")

    def _capacity_freed(self) -> None:
        # Resume as soon as half the slots are free, not on the next housekeeping tick: a paused consumer that
        # waits for the tick leaves the process idle while the fetch after the resume is still to come.
        if "capacity" in self._paused and self.scheduler.in_flight <= self.scheduler.max_in_flight // 2:
            self._resume("capacity")

    def _pause(self, reason: str) -> None:
        first = not self._paused
        self._paused.add(reason)
        consumer = self.subscriber.consumer
        if first and consumer is not None:
            consumer.pause(*consumer.assignment())
            log.info("consumption paused (%s)", reason)

    def _resume(self, reason: str) -> None:
        self._paused.discard(reason)
        consumer = self.subscriber.consumer
        if not self._paused and consumer is not None:
            consumer.resume(*consumer.assignment())
            log.info("consumption resumed")

    async def _partitions_revoked(self, revoked: set[Partition]) -> None:
        deadline = time.monotonic() + self.settings.processing.drain_timeout_s
        # Polling is enough here: a rebalance is rare, and the tracker stays free of per-partition events.
        while self.tracker.pending(revoked) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        await self.commit(revoked)
        self.tracker.forget(revoked)
        self.stalls.forget(revoked)

    async def _partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        consumer = self.subscriber.consumer
        if consumer is None or not assigned:
            return
        if self._paused:
            consumer.pause(*assigned)
        # Records already in the partition may have been filed by its previous owner: mark them for a status check.
        ends = await consumer.end_offsets(list(assigned))
        for tp in assigned:
            start = await consumer.committed(tp) or 0
            end = min(ends[tp], start + self.settings.processing.redelivery_window)
            self.tracker.suspect((tp.topic, tp.partition), start, end)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Commits finished work of partitions before they are handed to another instance."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    async def on_partitions_revoked(self, revoked: Any) -> None:
        partitions = {(tp.topic, tp.partition) for tp in revoked}
        if partitions:
            await self._gateway._partitions_revoked(partitions)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self._gateway._partitions_assigned(set(assigned))


async def _unparsed(records: tuple[ConsumerRecord, ...]) -> PolledRecords:
    """The poll as it came. FastStream's own batch parser decodes every header value of every record as strict UTF-8:
    one header that is not UTF-8, or has no value (Kafka allows both), would fail the whole poll before the gateway
    saw it — the records of every partition in it lost, not dead-lettered. Headers are the pipeline's to read."""
    first, last = records[0], records[-1]
    return PolledRecords(
        raw_message=records,
        body=b"",
        message_id=f"{first.offset}-{last.offset}-{first.timestamp}",
        consumer=FAKE_CONSUMER,  # the gateway commits itself; FastStream never acknowledges (AckPolicy.MANUAL)
    )


async def _undecoded(message: Any) -> None:
    """The handler reads the raw records; FastStream must not decode them first. It would JSON-decode every body
    of the poll, and one record that breaks ``json.loads`` (5000 levels deep, or not JSON under a JSON
    content-type header) would fail the whole poll before the gateway saw it: records lost, not dead-lettered."""
    return None


def _inbound(record: ConsumerRecord, maybe_redelivered: bool) -> InboundRecord:
    bad = unreadable.unreadable(record)
    if bad is not None:
        return InboundRecord(
            value=b"",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            last_offset=bad.last_offset,
            unreadable=ReadFailure(bad.error_class, bad.detail),
        )
    return InboundRecord(
        value=record.value or b"",
        key=record.key,
        headers=tuple(record.headers or ()),
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        maybe_redelivered=maybe_redelivered,
    )
