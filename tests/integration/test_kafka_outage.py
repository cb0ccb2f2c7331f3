"""A Kafka outage is told apart from a configuration mistake: a broker stopped, or one that accepts connections and
never answers, is a ``KafkaUnavailableError`` (exit 3); a TLS client hanging on a plaintext listener is a
``ConfigurationError`` naming ``kafka.security_protocol`` (exit 2)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from gateway.cli import EXIT_KAFKA_UNAVAILABLE
from gateway.cli.operations import replay_told
from gateway.devstack.broker import TansuBroker
from gateway.errors import ConfigurationError, KafkaUnavailableError
from gateway.kafka.reading import read_to_end
from gateway.kafka.topics import ensure_topics
from gateway.settings import KafkaSettings, Settings, TopicSettings
from gateway.tools.dlq import Selection, replay
from tests.certificates import issue


@contextlib.asynccontextmanager
async def silent_listener() -> AsyncIterator[str]:
    """A TCP listener that takes connections and never says a byte: a broker that hangs."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


def _settings(bootstrap: str, **kafka: object) -> Settings:
    return Settings(
        kafka=KafkaSettings(bootstrap_servers=bootstrap, request_timeout_ms=1000, **kafka),
        topics=TopicSettings(dlq="dlq-outage"),
    )


def test_a_stopped_broker_makes_case_exit_3_with_one_line(tmp_path: Path) -> None:
    with TansuBroker(log_path=tmp_path / "tansu.log") as broker:
        bootstrap = broker.bootstrap_servers
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env |= {"GATEWAY_KAFKA__BOOTSTRAP_SERVERS": bootstrap, "GATEWAY_LOG_FORMAT": "json"}
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "case", "CASE-1"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == EXIT_KAFKA_UNAVAILABLE, done.stderr
    said = [line for line in done.stderr.splitlines() if not line.startswith("{")]  # log records aside
    assert said == [
        f"ecuapass-gateway: cannot connect to Kafka at {bootstrap} with PLAINTEXT: connection refused: "
        "is the broker up, and the port right?"
    ]


async def test_a_broker_that_never_answers_is_an_outage() -> None:
    async with silent_listener() as bootstrap:
        with pytest.raises(KafkaUnavailableError, match="no answer within 1000 ms") as caught:
            await read_to_end(_settings(bootstrap), ["dlq-outage"])
    assert caught.value.bootstrap_servers == bootstrap


async def test_tls_hanging_on_a_listener_that_never_answers_is_a_configuration_mistake(tmp_path: Path) -> None:
    pki = issue(tmp_path)
    async with silent_listener() as bootstrap:
        with pytest.raises(ConfigurationError, match="TLS handshake with a plaintext listener") as caught:
            await read_to_end(_settings(bootstrap, security_protocol="SSL", ssl_cafile=pki.ca), ["dlq-outage"])
    assert caught.value.fields == ("kafka.security_protocol",)


async def test_a_broker_gone_halfway_through_a_replay_is_reported_not_raised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with TansuBroker(log_path=tmp_path / "tansu.log") as broker:
        settings = Settings(
            kafka=KafkaSettings(bootstrap_servers=broker.bootstrap_servers, request_timeout_ms=1000),
            topics=TopicSettings(input="in-outage", dlq="dlq-outage", quarantine="quarantine-outage", partitions=1),
        )
        await ensure_topics(settings)
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all")
        await producer.start()
        try:
            for n in range(5):
                headers = [("dlq.reason", b"delivery_failed"), ("dlq.error.class", b"PermanentDeliveryError")]
                await producer.send_and_wait(settings.topics.dlq, b"event-%d" % n, key=b"CASE-%d" % n, headers=headers)
        finally:
            await producer.stop()

        def stop_the_broker_after_the_second(done: int, total: int) -> None:
            if done == 2:
                broker.stop()

        report = await replay(settings, Selection(), progress=stop_the_broker_after_the_second)
    # Nothing raised, nothing counted twice or lost: each letter replayed (confirmed), failed, or not sent.
    assert not report.complete and report.failed
    accounted = [*report.replayed, *(letter for letter, _ in report.failed), *report.not_sent]
    assert sorted(letter.offset for letter in accounted) == list(range(5))
    assert all(isinstance(error, KafkaError) for _, error in report.failed)
    # What dlq replay tells its user of that report: every letter on a line, and exit 3 (run it again).
    assert replay_told(report, settings, dry_run=False) == EXIT_KAFKA_UNAVAILABLE
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert sum(line.startswith("replayed: ") for line in lines) == len(report.replayed)
    assert sum(line.startswith("not confirmed by the broker (") for line in lines) == len(report.failed)
    assert sum(line.startswith("not sent (") for line in lines) == len(report.not_sent)
    assert f"{len(report.failed)} not confirmed, {len(report.not_sent)} not sent: run it again" in lines[-1]
    assert "did not confirm every replay" in err
