"""Every codec on input, whatever the gateway's own compression; outcomes compressed as GATEWAY_KAFKA__COMPRESSION_TYPE
says, checked on the batches the broker really stores."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from gateway.bootstrap import build_gateway
from gateway.devstack.demo import OutcomeReader
from gateway.kafka.topics import ensure_topics
from gateway.settings import KafkaSettings, Settings
from gateway.tools.examples import Example
from tests.integration.clients.batches import stored_codecs
from tests.integration.conftest import authorization_events, make_settings

CODECS = ("gzip", "snappy", "lz4", "zstd")


@pytest.mark.parametrize("outcome_codec", ["none", "lz4"])
async def test_every_input_codec_is_read_and_outcomes_use_the_configured_one(
    broker: Any,
    mock_endpoint: Any,
    example_by_name: dict[str, Example],
    outcome_codec: str,
) -> None:
    base = make_settings(broker.bootstrap_servers, mock_endpoint.url)
    kafka = base.kafka.model_dump() | {"compression_type": outcome_codec}
    settings = Settings(**(base.model_dump() | {"kafka": KafkaSettings(**kafka)}))
    await ensure_topics(settings)
    template = example_by_name["authorization-request/accepted/minimal"].payload()
    events = {codec: authorization_events(template, 3, 1, f"{codec}-{outcome_codec}") for codec in CODECS}
    gateway = build_gateway(settings)
    await gateway.start()
    await gateway.wait_assigned()
    reader = OutcomeReader(settings)
    await reader.start(from_beginning=True)
    try:
        for codec, batch in events.items():
            producer = AIOKafkaProducer(
                bootstrap_servers=settings.kafka.bootstrap_servers, compression_type=codec, linger_ms=20
            )
            await producer.start()
            try:
                for key, value, _ in batch:
                    await producer.send(settings.topics.input, value, key=key)
                await producer.flush()
            finally:
                await producer.stop()
        expected = {event_id for batch in events.values() for _, _, event_id in batch}
        answered: dict[str, str] = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and set(answered) != expected:
            for received in await reader.read():
                answered[str(received.body()["data"]["answered_event_id"])] = received.outcome  # type: ignore[index]
    finally:
        await reader.stop()
        await gateway.stop()
    assert answered == dict.fromkeys(expected, "accepted")  # the gateway read every codec's batches
    assert await stored_codecs(settings, settings.topics.input) == set(CODECS)
    assert await stored_codecs(settings, settings.topics.acks) == {outcome_codec}
