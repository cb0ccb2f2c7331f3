"""Running the events of each poll: the Kafka entrypoint's handler. It translates records and orders nothing else.

    poll -> dispatch(): each record tracked and queued behind its case (CaseScheduler) -> run(), per record:
        InboundRecord (``inbound``) -> Pipeline.process -> publisher (confirmed) -> OffsetTracker.finished

A case's events run one after the other, different cases side by side, at most ``max_in_flight`` at a time; when
that many are in flight, consumption pauses and resumes once half are done. A batch the client cannot read (a
codec, a corrupt batch) arrives as one record standing for its offset range (``gateway.kafka.unreadable``) and
becomes a dead letter like any other record. An event whose outcome could not be published at all holds its
partition (``gateway.kafka.publisher``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial

from aiokafka import ConsumerRecord
from opentelemetry.trace import SpanKind

from gateway.kafka import unreadable
from gateway.kafka.consumption import Consumption
from gateway.kafka.flow import CaseScheduler, OffsetTracker
from gateway.kafka.headers import as_text
from gateway.kafka.publisher import OutcomePublisher
from gateway.outcomes import DeadLetter
from gateway.pipeline import InboundRecord, Pipeline, ReadFailure
from gateway.runtime.logs import event_context
from gateway.runtime.metrics import GatewayMetrics
from gateway.runtime.tracing import current_trace_id, current_traceparent, extract, tracer


class EventHandler:
    def __init__(
        self,
        pipeline: Pipeline,
        publisher: OutcomePublisher,
        tracker: OffsetTracker,
        consumption: Consumption,
        metrics: GatewayMetrics,
        *,
        max_in_flight: int,
    ) -> None:
        self._pipeline = pipeline
        self._publisher = publisher
        self._tracker = tracker
        self._consumption = consumption
        self._metrics = metrics
        self.scheduler = CaseScheduler(max_in_flight, on_finished=self._capacity_freed)
        self.accepting = True

    def dispatch(self, batch: Sequence[ConsumerRecord]) -> None:
        """One poll: never blocks."""
        if not self.accepting:
            return  # neither tracked nor committed: delivered again after the restart
        for record in batch:
            bad = unreadable.unreadable(record)
            last = bad.last_offset if bad is not None else None
            self._tracker.started((record.topic, record.partition), record.offset, last=last)
            case = record.key if record.key is not None else (record.topic, record.partition, record.offset)
            self.scheduler.submit(case, partial(self.run, record))
        if self.scheduler.in_flight >= self.scheduler.max_in_flight:
            self._consumption.pause("capacity")

    async def run(self, record: ConsumerRecord) -> None:
        partition = (record.topic, record.partition)
        answered = inbound(record, self._tracker.maybe_redelivered(partition, record.offset))
        case = record.key.decode("utf-8", "replace") if record.key is not None else None
        attributes = {"messaging.system": "kafka", "messaging.destination.name": record.topic}
        with (
            tracer.start_as_current_span(
                "consume", context=extract(as_text(answered.headers)), kind=SpanKind.CONSUMER, attributes=attributes
            ),
            event_context(case_id=case, trace_id=current_trace_id()),
        ):
            outcome = await self._pipeline.process(answered)
            with tracer.start_as_current_span("publish", kind=SpanKind.PRODUCER):
                published = await self._publisher.publish(outcome, answered, traceparent=current_traceparent())
            if published is None:  # not even a dead letter went out: the record stays, its partition stops
                self._consumption.hold(partition, record.offset)
                return
            self._tracker.finished(partition, record.offset)
            event_type = (
                published.event_type if isinstance(published, DeadLetter) else published.data.answered_event_type
            )
            latency = time.time() - record.timestamp / 1000 if record.timestamp and record.timestamp > 0 else None
            self._metrics.record_outcome(event_type or "", published, latency)

    def _capacity_freed(self) -> None:
        # Resume as soon as half the slots are free, not on the next housekeeping tick: a paused consumer that
        # waits for the tick leaves the process idle while the fetch after the resume is still to come.
        if self._consumption.paused_by("capacity") and self.scheduler.in_flight <= self.scheduler.max_in_flight // 2:
            self._consumption.resume("capacity")


def inbound(record: ConsumerRecord, maybe_redelivered: bool = False) -> InboundRecord:
    """A consumed record as the pipeline takes it (an unreadable range as one record saying why)."""
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
