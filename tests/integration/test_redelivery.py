"""The commit behaviour, pinned: a gateway killed after consuming an event but before publishing its outcome
leaves the offset uncommitted, so the event is delivered again to the gateway that takes over.

Both gateways are real processes (``python -m gateway run``) configured only through ``GATEWAY_*`` variables.
The first one files with an endpoint that accepts the connection and never answers, so it is certainly between
"consumed" and "outcome published" when it is killed with SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
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
from tests.integration.conftest import start_gateway


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

    first = start_gateway(settings, black_hole.url, tmp_path / "first.log")
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

        second = start_gateway(settings, mock_endpoint.url, tmp_path / "second.log")
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
