"""Real servers on 127.0.0.1: one Tansu broker per session, a mock endpoint and fresh topics per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from adapters.ecuapass_mock.server import MockServer
from gateway.bootstrap import build_gateway
from gateway.devstack.broker import TansuBroker
from gateway.kafka.service import Gateway
from gateway.kafka.topics import ensure_topics
from gateway.settings import (
    EcuapassSettings,
    KafkaSettings,
    ProcessingSettings,
    RetrySettings,
    Settings,
    TopicSettings,
)


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
        ),
        "topics": TopicSettings(
            input=f"in-{suffix}",
            acks=f"acks-{suffix}",
            rejections=f"rej-{suffix}",
            dlq=f"dlq-{suffix}",
            partitions=3,
        ),
        "ecuapass": EcuapassSettings(url=endpoint_url, read_timeout_s=5.0),  # type: ignore[arg-type]
        "retry": RetrySettings(max_attempts=3, initial_backoff_s=0.05, max_backoff_s=0.2),
        "processing": ProcessingSettings(batch_timeout_ms=20),
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
