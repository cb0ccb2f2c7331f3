"""Scenario 5's system under test: the obvious FastStream handler, one event at a time.

``python -m gateway.bench.naive`` is what one writes first: a (non-batch) FastStream subscriber with
``AckPolicy.ACK`` whose handler runs the same pipeline as the gateway (decode, validate, map, XSD-validate, file
over HTTP with the same adapter and retries), awaits the publication of the outcome, and lets FastStream commit
after it returns. One event is in flight at a time, so its throughput is about 1 / (latency of one event). It shares
with the gateway only how records are read and written (``gateway.kafka.handler.inbound``,
``gateway.kafka.records.encode``), and publishes the obvious way, through FastStream. Same ``GATEWAY_*`` settings as
the gateway. Prints ``ready`` once its partitions are assigned; stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from datetime import UTC, datetime

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from adapters.http_customs_endpoint import HttpCustomsEndpoint
from gateway.kafka import records
from gateway.kafka.handler import inbound
from gateway.kafka.headers import as_text
from gateway.pipeline import Pipeline
from gateway.runtime import logs, tracing
from gateway.runtime.signals import StopSignal
from gateway.settings import Settings
from gateway.signing import load_identities

ASSIGNMENT_TIMEOUT_S = 120.0


async def serve(settings: Settings) -> None:
    kafka = settings.kafka
    endpoint = HttpCustomsEndpoint(settings.ecuapass, settings.retry)
    pipeline = Pipeline(
        endpoint,
        source=settings.source,
        max_event_bytes=settings.processing.max_event_bytes,
        identities=load_identities(settings.agencies),
    )
    broker = KafkaBroker(kafka.bootstrap_servers, client_id=kafka.client_id, logger=logging.getLogger("naive.broker"))
    subscriber = broker.subscriber(
        settings.topics.input,
        group_id=kafka.group_id,
        ack_policy=AckPolicy.ACK,
        auto_offset_reset=kafka.auto_offset_reset,
        session_timeout_ms=kafka.session_timeout_ms,
        heartbeat_interval_ms=kafka.heartbeat_interval_ms,
        fetch_max_wait_ms=kafka.fetch_max_wait_ms,
    )

    @subscriber
    async def handle(message: KafkaMessage) -> None:
        record = message.raw_message
        assert isinstance(record, ConsumerRecord)  # a single-record subscriber
        answered = inbound(record)
        outcome = await pipeline.process(answered)
        out = records.encode(outcome, answered, settings.topics, now=datetime.now(UTC))
        await broker.publish(out.value, out.topic, key=out.key, headers=as_text(out.headers))

    with StopSignal() as stop:
        await broker.start()
        try:
            deadline = time.monotonic() + ASSIGNMENT_TIMEOUT_S
            while subscriber.consumer is None or not subscriber.consumer.assignment():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no partition assigned in {ASSIGNMENT_TIMEOUT_S} s")
                await asyncio.sleep(0.05)
            print("ready", flush=True)
            await stop.wait()
        finally:
            await broker.stop()
            await endpoint.aclose()


def main() -> int:
    settings = Settings()
    logs.configure(settings)
    tracing.setup(settings.tracing)
    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
