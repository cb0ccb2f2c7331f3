"""Real servers on 127.0.0.1: one Tansu broker per session, a mock endpoint and fresh topics per test."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ecuapass_mock.server import MockServer
from gateway.bootstrap import build_gateway
from gateway.devstack.broker import TANSU_FETCH_MAX_WAIT_MS, TansuBroker
from gateway.kafka.service import Gateway
from gateway.kafka.topics import ensure_topics
from gateway.settings import (
    EcuapassSettings,
    KafkaSettings,
    OpsSettings,
    ProcessingSettings,
    RetrySettings,
    Settings,
    TopicSettings,
)
from tests.harness.outcomes import collect as collect  # the tests' one reader of outcomes, re-exported


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TansuBroker]:
    with TansuBroker(log_path=tmp_path_factory.mktemp("tansu") / "tansu.log") as running:
        yield running


@pytest.fixture
def mock_endpoint(tmp_path: Path) -> Iterator[MockServer]:
    with MockServer(tmp_path / "mock.sqlite3") as server:
        yield server


def make_settings(bootstrap: str, endpoint_url: str, **sections: object) -> Settings:
    """Settings for one test: its own topics and group, quick consumer timings for Tansu, fast retries."""
    suffix = uuid.uuid4().hex[:8]
    values: dict[str, object] = {
        "kafka": KafkaSettings(
            bootstrap_servers=bootstrap,
            group_id=f"gateway-{suffix}",
            session_timeout_ms=1000,
            heartbeat_interval_ms=300,
            fetch_max_wait_ms=TANSU_FETCH_MAX_WAIT_MS,
        ),
        "topics": TopicSettings(
            input=f"in-{suffix}",
            acks=f"acks-{suffix}",
            rejections=f"rej-{suffix}",
            dlq=f"dlq-{suffix}",
            quarantine=f"quarantine-{suffix}",
            notifications=f"ntf-{suffix}",
            archive=f"archive-{suffix}",
            intake_dlq=f"intake-dlq-{suffix}",
            intake_feeds=f"feeds-{suffix}",
            partitions=3,
        ),
        "ecuapass": EcuapassSettings(url=endpoint_url, read_timeout_s=5.0),  # type: ignore[arg-type]
        "retry": RetrySettings(max_attempts=3, initial_backoff_s=0.05, max_backoff_s=0.2),
        "processing": ProcessingSettings(batch_timeout_ms=20),
        "ops": OpsSettings(port=0),
        "source": "urn:ecuapass-gateway:test",
    }
    values.update(sections)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def settings(broker: TansuBroker, mock_endpoint: MockServer) -> Settings:
    configured = make_settings(broker.bootstrap_servers, mock_endpoint.url)
    await ensure_topics(configured)
    return configured


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[Gateway]:
    running = build_gateway(settings)
    await running.start()
    await running.wait_assigned()
    try:
        yield running
    finally:
        await running.stop()


def authorization_events(template: bytes, cases: int, per_case: int, prefix: str) -> list[tuple[bytes, bytes, str]]:
    """Distinct authorization events, interleaved across cases: (key, value, event id), in publishing order."""
    import json

    events = []
    for n in range(per_case):
        for case in range(cases):
            event = json.loads(template)
            event["id"] = f"{prefix}-{case}-{n}"
            event["subject"] = f"{prefix.upper()}-CASE-{case:03d}"
            event["data"]["local_reference"] = f"{prefix.upper()}-{case:03d}-{n:03d}"
            events.append((event["subject"].encode(), json.dumps(event).encode(), event["id"]))
    return events


async def publish(settings: Settings, events: list[tuple[bytes, bytes, str]]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, linger_ms=5)
    await producer.start()
    try:
        for key, value, _ in events:
            await producer.send(settings.topics.input, value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


def gateway_environment(settings: Settings, endpoint_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        {
            "GATEWAY_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
            "GATEWAY_KAFKA__GROUP_ID": settings.kafka.group_id,
            "GATEWAY_KAFKA__SESSION_TIMEOUT_MS": "1000",
            "GATEWAY_KAFKA__HEARTBEAT_INTERVAL_MS": "300",
            "GATEWAY_TOPICS__INPUT": settings.topics.input,
            "GATEWAY_TOPICS__ACKS": settings.topics.acks,
            "GATEWAY_TOPICS__REJECTIONS": settings.topics.rejections,
            "GATEWAY_TOPICS__DLQ": settings.topics.dlq,
            "GATEWAY_TOPICS__QUARANTINE": settings.topics.quarantine,
            "GATEWAY_ECUAPASS__URL": endpoint_url,
            "GATEWAY_ECUAPASS__READ_TIMEOUT_S": "120",
            "GATEWAY_OPS__PORT": "0",
        }
    )
    return env


def start_gateway(settings: Settings, endpoint_url: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "gateway", "run"],
            env=gateway_environment(settings, endpoint_url),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
