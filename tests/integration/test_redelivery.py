"""The commit behaviour, pinned: a gateway killed after consuming an event but before publishing its outcome
leaves the offset uncommitted, so the event is delivered again to the gateway that takes over.

Both gateways are real processes (``python -m gateway run``) configured only through ``GATEWAY_*`` variables.
The first one files with an endpoint that accepts the connection and never answers, so it is certainly between
"consumed" and "outcome published" when it is killed with SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from adapters.ecuapass_mock.server import MockServer
from gateway.devstack.demo import OutcomeReader
from gateway.examples import Example
from gateway.settings import Settings


class BlackHole:
    """Accepts HTTP connections on 127.0.0.1 and never answers; records what arrives."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.received = bytearray()
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._open.append(conn)
            conn.settimeout(0.5)
            with contextlib.suppress(OSError):
                self.received += conn.recv(65536)

    def close(self) -> None:
        self._sock.close()
        for conn in self._open:
            conn.close()


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    hole = BlackHole()
    yield hole
    hole.close()


def _environment(settings: Settings, endpoint_url: str) -> dict[str, str]:
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
            "GATEWAY_ECUAPASS__URL": endpoint_url,
            "GATEWAY_ECUAPASS__READ_TIMEOUT_S": "120",
        }
    )
    return env


def _start(settings: Settings, endpoint_url: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "gateway", "run"],
            env=_environment(settings, endpoint_url),
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def test_killed_before_publishing_means_redelivered(
    settings: Settings,
    mock_endpoint: MockServer,
    black_hole: BlackHole,
    example_by_name: dict[str, Example],
    tmp_path: Path,
) -> None:
    case = example_by_name["authorization-request/accepted/minimal"]
    reader = OutcomeReader(settings)
    await reader.start()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers)
    await producer.start()
    await producer.send_and_wait(settings.topics.input, case.payload(), key=case.key())
    await producer.stop()

    first = _start(settings, black_hole.url, tmp_path / "first.log")
    second: subprocess.Popen[bytes] | None = None
    try:
        deadline = time.monotonic() + 30
        while b"/api/v1/documents" not in black_hole.received:  # a status query or the filing itself
            assert time.monotonic() < deadline, (tmp_path / "first.log").read_text()
            assert first.poll() is None, (tmp_path / "first.log").read_text()
            await asyncio.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert await reader.read(timeout_ms=500) == []  # the killed gateway published nothing

        second = _start(settings, mock_endpoint.url, tmp_path / "second.log")
        outcomes = []
        deadline = time.monotonic() + 30
        while not outcomes and time.monotonic() < deadline:
            outcomes = await reader.read()
        assert [o.kind for o in outcomes] == ["accepted"], (tmp_path / "second.log").read_text()
        data = outcomes[0].body()["data"]
        assert isinstance(data, dict) and data["answered_event_id"] == case.event_id()
        assert httpx.get(f"{mock_endpoint.url}/admin/filings").json() == {data["message_id"]: 1}

        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0  # a graceful stop exits 0
    finally:
        await reader.stop()
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
